/* SPDX-License-Identifier: MIT */
#ifndef CPROF_HTTP_SERVER_H
#define CPROF_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A small HTTP server for cprof serve: GET requests, each answered by a
 * handler on a thread of its own (a profile takes seconds to collect), a
 * bounded number of connections at once. http/ is the only folder that
 * includes libmicrohttpd, which parses what clients send: hostile input,
 * in a process that often runs as root.
 */
struct http_server;
struct http_request;

/* What the handler answers. body is malloc'd and taken by the server (NULL for none). */
struct http_response {
	int status;
	const char *content_type;
	const char *disposition;  /* Content-Disposition, or NULL */
	bool go_pprof;		  /* X-Go-Pprof: 1, as Go's pprof handlers mark their errors */
	const char *authenticate; /* WWW-Authenticate (with a 401), or NULL */
	char *body;
	size_t len;
};

/* Answer req into resp (status 0 on entry; the server says 500 if it stays 0). */
typedef void (*http_handler)(void *ctx, const struct http_request *req, struct http_response *resp);

/* Request header name's value, or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* The request's path, without its query. */
const char *http_request_path(const struct http_request *req);

/* A query parameter's value (decoded), NULL when absent. */
const char *http_request_param(const struct http_request *req, const char *name);

/* Has the client closed its connection (a collection for it may stop)? */
bool http_request_gone(const struct http_request *req);

/*
 * Listen on host (an IPv4 or IPv6 address; "::" takes IPv4 too) and port (0: any free one, then
 * *ret_port says which) with at most max_connections at once. Returns 0
 * and *ret (stop with http_server_stop), -EADDRINUSE, -EACCES, -EINVAL
 * (host is no IP address), -ELIBACC (libmicrohttpd, loaded at the first
 * start, is missing or unusable), or another negative errno.
 */
int http_server_start(const char *host, uint16_t port, unsigned max_connections, http_handler fn,
		      void *ctx, struct http_server **ret, uint16_t *ret_port);

/* After -ELIBACC: why libmicrohttpd could not be used (the loader's words). */
const char *http_server_load_error(void);

/* Close the listening socket and wait for the requests being answered. NULL-safe. */
void http_server_stop(struct http_server *s);

#endif
