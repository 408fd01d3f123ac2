/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/server.h"

/* Idle connections are closed after this long; a request being answered is not idle. */
#define IDLE_SECONDS 30

/*
 * libmicrohttpd is loaded when a server starts, not linked: it brings
 * GnuTLS and eight more libraries, whose loading and relocation took 2 ms
 * of every cprof command (a fifth of a short recording's start), for a
 * server only `cprof serve` runs. Each entry point has the header's own
 * type. The soname is the ABI the header describes: 12 since 0.9.x.
 */
#define MHD_SONAME "libmicrohttpd.so.12"

#define MHD_FUNCTIONS(X)                                      \
	X(MHD_lookup_connection_value)                        \
	X(MHD_get_connection_info)                            \
	X(MHD_create_response_from_buffer)                    \
	X(MHD_create_response_from_buffer_with_free_callback) \
	X(MHD_add_response_header)                            \
	X(MHD_queue_response)                                 \
	X(MHD_destroy_response)                               \
	X(MHD_start_daemon)                                   \
	X(MHD_get_daemon_info)                                \
	X(MHD_stop_daemon)

#define MHD_POINTER(name) __typeof__(name) *name;
static struct {
	MHD_FUNCTIONS(MHD_POINTER)
} mhd;
#undef MHD_POINTER

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static int mhd_error = -ELIBACC;

/* Why the library could not be used, for -v (dlerror's words). */
static char mhd_why[256];

static void mhd_load(void)
{
	void *h = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		(void)snprintf(mhd_why, sizeof(mhd_why), "%s", dlerror());
		return;
	}
#define MHD_RESOLVE(name)                                                                    \
	if (!(*(void **)&mhd.name = dlsym(h, #name))) {                                      \
		(void)snprintf(mhd_why, sizeof(mhd_why), "%s has no %s", MHD_SONAME, #name); \
		(void)dlclose(h);                                                            \
		memset(&mhd, 0, sizeof(mhd));                                                \
		return;                                                                      \
	}
	MHD_FUNCTIONS(MHD_RESOLVE)
#undef MHD_RESOLVE
	mhd_error = 0;
}

const char *http_server_load_error(void)
{
	return mhd_why;
}

struct http_server {
	struct MHD_Daemon *daemon;
	http_handler fn;
	void *ctx;
};

struct http_request {
	struct MHD_Connection *conn;
	const char *path;
};

const char *http_request_path(const struct http_request *req)
{
	return req->path;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	return mhd.MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_param(const struct http_request *req, const char *name)
{
	return mhd.MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool http_request_gone(const struct http_request *req)
{
	const union MHD_ConnectionInfo *info =
		mhd.MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct pollfd pfd;
	char byte;

	if (!info)
		return false;
	pfd = (struct pollfd){.fd = info->connect_fd, .events = POLLIN | POLLRDHUP};
	if (poll(&pfd, 1, 0) <= 0)
		return false;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return true;
	/* Readable: the end of the stream, or the client's next request. */
	return recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_request req = {conn, url};
	struct http_response resp = {0};
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		static const char msg[] = "method not allowed\n";

		resp = (struct http_response){.status = MHD_HTTP_METHOD_NOT_ALLOWED,
					      .content_type = "text/plain; charset=utf-8"};
		r = mhd.MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
							MHD_RESPMEM_PERSISTENT);
	} else if (*upload_data_size) {
		/* A GET with a body: ignore it. */
		*upload_data_size = 0;
		return MHD_YES;
	} else {
		s->fn(s->ctx, &req, &resp);
		if (!resp.status)
			resp.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r = mhd.MHD_create_response_from_buffer_with_free_callback(resp.len, resp.body,
									   free);
		if (!r)
			free(resp.body);
	}
	if (!r)
		return MHD_NO;
	(void)mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
	if (resp.content_type)
		(void)mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						  resp.content_type);
	if (resp.disposition)
		(void)mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
						  resp.disposition);
	if (resp.go_pprof)
		(void)mhd.MHD_add_response_header(r, "X-Go-Pprof", "1");
	if (resp.authenticate)
		(void)mhd.MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
						  resp.authenticate);
	ret = mhd.MHD_queue_response(conn, (unsigned)resp.status, r);
	mhd.MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's own messages: the library prints nothing. */
static void quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

int http_server_start(const char *host, uint16_t port, unsigned max_connections, http_handler fn,
		      void *ctx, struct http_server **ret, uint16_t *ret_port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in6 addr6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	const union MHD_DaemonInfo *info;
	struct sockaddr *sa = (struct sockaddr *)&addr;
	socklen_t salen = sizeof(addr);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
	struct http_server *s;
	int fd, one = 1, zero = 0;

	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		if (inet_pton(AF_INET6, host, &addr6.sin6_addr) != 1)
			return -EINVAL;
		sa = (struct sockaddr *)&addr6;
		salen = sizeof(addr6);
		flags |= MHD_USE_IPv6;
	}
	(void)pthread_once(&mhd_once, mhd_load);
	if (mhd_error)
		return mhd_error;
	/* Our own socket: a bind error is then an errno to report, not a NULL daemon. */
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "::" takes IPv4 too, as Go's ":6060" does. */
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, sa, salen) < 0 || listen(fd, 32) < 0) {
		int e = -errno;

		(void)close(fd);
		return e;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		(void)close(fd);
		return -ENOMEM;
	}
	s->fn = fn;
	s->ctx = ctx;
	s->daemon = mhd.MHD_start_daemon(flags, 0, NULL, NULL, answer, s, MHD_OPTION_LISTEN_SOCKET,
					 fd, MHD_OPTION_CONNECTION_LIMIT, max_connections,
					 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_SECONDS,
					 MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL, MHD_OPTION_END);
	if (!s->daemon) {
		(void)close(fd);
		free(s);
		return -ENOMEM;
	}
	info = mhd.MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*ret_port = info ? info->port : port;
	*ret = s;
	return 0;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	mhd.MHD_stop_daemon(s->daemon);
	free(s);
}
