/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/views/calltree.h"
#include "lib/views/flamegraph.h"
#include "lib/base/hash.h"
#include "lib/views/text.h"
#include "lib/base/units.h"

#define WIDTH 1200.0
#define FRAME 16.0
#define TOP 48.0      /* title and controls */
#define BOTTOM 24.0   /* details line */
#define MIN_WIDTH 0.1 /* px: narrower frames are left out, as flamegraph.pl does */

/*
 * A frame's label, as flamegraph.pl fits it: as many characters as 7 px
 * each allow in the frame's width less 6, the name cut with ".." when it
 * is longer, nothing under 3. Written into the SVG, so an image viewer or
 * an <img> (no scripts) shows the names; the script's label() does the
 * same when a zoom changes the widths.
 */
static void write_label(FILE *out, const char *name, double px)
{
	double fit = floor((px - 6) / 7);
	size_t chars = 0, cut = 0, len = strlen(name), room;
	char *copy;

	if (fit < 3)
		return;
	room = (size_t)fit;
	/* Characters, not bytes: a UTF-8 name is cut between code points. */
	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)name[i] & 0xc0) == 0x80)
			continue;
		if (chars == room - 2)
			cut = i;
		chars++;
	}
	if (chars <= room) {
		text_xml(out, name);
		return;
	}
	copy = strndup(name, cut);
	if (!copy)
		return;
	text_xml(out, copy);
	fputs("..", out);
	free(copy);
}

/* The script: zoom, search, details and the URL hash. Kept small and readable. */
static const char script[] =
	"var W=1200,svg=document.documentElement,fs=[].slice.call(document.querySelectorAll('g.f'));\n"
	"var details=document.getElementById('details'),matched=document.getElementById('matched');\n"
	"function A(g,k){return parseFloat(g.getAttribute('data-'+k));}\n"
	"function label(g,w){var t=g.querySelector('text'),n=g.getAttribute('data-n');\n"
	"  var c=Math.floor((w-6)/7);t.textContent=c<3?'':(n.length<=c?n:n.substr(0,c-2)+'..');}\n"
	"function place(g,x,w){var r=g.querySelector('rect'),t=g.querySelector('text');\n"
	"  r.setAttribute('x',x*W);r.setAttribute('width',Math.max(w*W-0.5,0));\n"
	"  t.setAttribute('x',x*W+3);label(g,w*W);g.style.display=w*W<0.1?'none':'';}\n"
	"function zoom(z){var x0=A(z,'x'),w0=A(z,'w'),d0=A(z,'d');\n"
	"  fs.forEach(function(g){var x=A(g,'x'),w=A(g,'w'),d=A(g,'d');\n"
	"    if(d<d0&&x<=x0+1e-12&&x+w>=x0+w0-1e-12){place(g,0,1);g.setAttribute('class','f parent');}\n"
	"    else if(d>=d0&&x>=x0-1e-12&&x+w<=x0+w0+1e-12){place(g,(x-x0)/w0,w/w0);g.setAttribute('class','f');}\n"
	"    else{g.style.display='none';g.setAttribute('class','f hidden');}});\n"
	"  document.getElementById('unzoom').style.opacity=1;svg.setAttribute('data-zoomed',z.getAttribute('data-n'));}\n"
	"function unzoom(){fs.forEach(function(g){place(g,A(g,'x'),A(g,'w'));g.setAttribute('class','f');});\n"
	"  document.getElementById('unzoom').style.opacity=0;svg.removeAttribute('data-zoomed');}\n"
	"function search(re){var rx;try{rx=new RegExp(re);}catch(e){return;}var hit=[];\n"
	"  fs.forEach(function(g){var r=g.querySelector('rect');\n"
	"    if(!r.hasAttribute('data-fill'))r.setAttribute('data-fill',r.getAttribute('fill'));\n"
	"    if(re&&rx.test(g.getAttribute('data-n'))){r.setAttribute('fill','rgb(230,0,230)');hit.push(g);}\n"
	"    else r.setAttribute('fill',r.getAttribute('data-fill'));});\n"
	"  /* A frame under a matched frame is already counted in its parent's share (x is printed\n"
	"     to 1e-9: frames nest within 1e-7, and none is narrower than that). */\n"
	"  hit.sort(function(a,b){return A(a,'x')-A(b,'x')||A(a,'d')-A(b,'d');});var end=-1,sum=0;\n"
	"  hit.forEach(function(g){var x=A(g,'x'),w=A(g,'w');if(x>=end-1e-7){sum+=w;end=x+w;}});\n"
	"  matched.textContent=re?'Matched: '+(100*sum).toFixed(1)+'%':'';svg.setAttribute('data-matched',re?(100*sum).toFixed(1):'');}\n"
	"fs.forEach(function(g){g.addEventListener('click',function(){zoom(g);});\n"
	"  g.addEventListener('mouseover',function(){details.textContent=g.querySelector('title').textContent;});\n"
	"  g.addEventListener('mouseout',function(){details.textContent=' ';});});\n"
	"document.getElementById('unzoom').addEventListener('click',unzoom);\n"
	"document.getElementById('search').addEventListener('click',function(){\n"
	"  var re=prompt('Search for (regular expression):','');if(re!==null)search(re);});\n"
	"function fromHash(){var h=decodeURIComponent(location.hash.substr(1));\n"
	"  h.split('&').forEach(function(kv){var i=kv.indexOf('='),k=kv.substr(0,i),v=kv.substr(i+1);\n"
	"    if(k==='search')search(v);\n"
	"    if(k==='zoom')fs.some(function(g){if(g.getAttribute('data-n')===v){zoom(g);return true;}});});}\n"
	"fromHash();window.addEventListener('hashchange',fromHash);\n";

/* Stable colors: a frame's hue comes from its name, so runs compare. */
static void color(const char *name, enum calltree_kind kind, char *buf, size_t size)
{
	uint64_t h = hash_bytes(name, strlen(name), 0);
	double v1 = (double)(h & 0xff) / 255.0, v2 = (double)((h >> 8) & 0xff) / 255.0;

	switch (kind) {
	case CALLTREE_KERNEL:
		(void)snprintf(buf, size, "rgb(%d,%d,%d)", 235, (int)(130 + 40 * v1),
			       (int)(30 * v2));
		break;
	case CALLTREE_JIT:
		(void)snprintf(buf, size, "rgb(%d,%d,%d)", (int)(50 + 60 * v1),
			       (int)(190 + 40 * v2), (int)(50 + 60 * v1));
		break;
	case CALLTREE_INLINED:
		(void)snprintf(buf, size, "rgb(%d,%d,%d)", (int)(80 + 40 * v1),
			       (int)(190 + 30 * v2), (int)(210 + 30 * v2));
		break;
	default:
		(void)snprintf(buf, size, "rgb(%d,%d,%d)", (int)(205 + 50 * v2),
			       (int)(60 + 150 * v1), (int)(40 + 20 * v2));
		break;
	}
}

/* Red for growth, blue for shrinkage, white for none: shares of each side's total. */
static void diff_color(const struct calltree_node *n, int64_t total, int64_t base_total, char *buf,
		       size_t size)
{
	double now = total ? (double)n->value / (double)total : 0;
	double before = base_total ? (double)n->base / (double)base_total : 0;
	double d = now - before, k = fmin(fabs(d) * 5.0, 1.0);
	int fade = (int)(255 * (1 - k));

	if (d >= 0)
		(void)snprintf(buf, size, "rgb(255,%d,%d)", fade, fade);
	else
		(void)snprintf(buf, size, "rgb(%d,%d,255)", fade, fade);
}

int flamegraph_write(const struct stacks *st, const struct flamegraph_options *o, FILE *out)
{
	struct calltree *t;
	double *x;
	double height;
	char fill[40], value[32], pct[16];
	int64_t total, base_total;
	int r;

	r = calltree_build(st, o->base, &t);
	if (r < 0)
		return r;
	calltree_sort(t);
	x = calloc(t->n, sizeof(*x));
	if (!x) {
		calltree_free(t);
		return -ENOMEM;
	}
	total = t->nodes[0].value;
	base_total = o->base ? t->nodes[0].base : 0;
	height = TOP + FRAME * (t->max_depth + 1) + BOTTOM;

	fprintf(out,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n",
		WIDTH, height, WIDTH, height);
	fprintf(out, "<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
		     "g.f:hover rect{stroke:#000;stroke-width:0.5;cursor:pointer}"
		     "g.parent rect{opacity:0.5}#unzoom,#search{cursor:pointer}</style>\n");
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n");
	fprintf(out, "<text x=\"600\" y=\"20\" text-anchor=\"middle\" style=\"font-size:17px\">");
	text_xml(out, o->title ? o->title : "Flame Graph");
	fprintf(out,
		"</text>\n<text id=\"unzoom\" x=\"10\" y=\"40\" style=\"opacity:0\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"1100\" y=\"40\">Search</text>\n"
		"<text id=\"matched\" x=\"980\" y=\"%.0f\"> </text>\n"
		"<text id=\"details\" x=\"10\" y=\"%.0f\"> </text>\n",
		height - 6, height - 6);

	/* Depth-first, children after their parent: x grows left to right in each parent. */
	for (size_t i = 0; i < t->n; i++) {
		const struct calltree_node *n = &t->nodes[i];
		double cx = x[i];

		for (uint32_t c = n->first_child; c; c = t->nodes[c].next_sibling) {
			x[c] = cx;
			cx += total ? (double)t->nodes[c].value / (double)total : 0;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct calltree_node *n = &t->nodes[i];
		double w = total ? (double)n->value / (double)total : 0, y;
		const char *name = i == 0 ? "all" : st->names[n->node];

		if (w * WIDTH < MIN_WIDTH)
			continue;
		y = o->icicle ? TOP + FRAME * n->depth : height - BOTTOM - FRAME * (n->depth + 1);
		if (o->base)
			diff_color(n, total, base_total, fill, sizeof(fill));
		else if (i == 0)
			(void)snprintf(fill, sizeof(fill), "rgb(200,200,200)");
		else
			color(name, n->kind, fill, sizeof(fill));
		units_format(value, sizeof(value), n->value, st->unit);
		units_percent(pct, sizeof(pct), n->value, total);
		fprintf(out,
			"<g class=\"f\" data-d=\"%u\" data-x=\"%.9f\" data-w=\"%.9f\" data-n=\"",
			n->depth, x[i], w);
		text_xml(out, name);
		fprintf(out, "\"><title>");
		text_xml(out, name);
		fprintf(out, " (%s, %s)", value, pct + strspn(pct, " "));
		if (o->base) {
			units_format(value, sizeof(value), n->base, st->unit);
			fprintf(out, " base %s", value);
		}
		fprintf(out,
			"</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" y=\"%.1f\">",
			x[i] * WIDTH, y, fmax(w * WIDTH - 0.5, 0), FRAME - 1, fill,
			x[i] * WIDTH + 3, y + FRAME - 4);
		write_label(out, name, w * WIDTH);
		fputs("</text></g>\n", out);
	}
	fprintf(out, "<script type=\"text/javascript\"><![CDATA[\n%s]]></script>\n</svg>\n",
		script);
	free(x);
	calltree_free(t);
	return ferror(out) ? -EIO : 0;
}
