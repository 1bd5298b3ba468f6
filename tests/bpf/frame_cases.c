// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The framer's table: see frame_cases.h. */
#include <stdio.h>
#include <string.h>
#include "frame_cases.h"

#define OK	KANARY_FRAME_COMPLETE
#define PART	KANARY_FRAME_PARTIAL
#define BAD	KANARY_FRAME_INVALID
#define NONE	KANARY_BODY_NONE
#define LEN	KANARY_BODY_LENGTH
#define CHUNK	KANARY_BODY_CHUNKED
#define CLOSE	KANARY_BODY_UNTIL_CLOSE
#define F_HEAD	KANARY_FRAME_F_HEAD_METHOD
#define F_CLOSE	KANARY_FRAME_F_CLOSE
#define F_100	KANARY_FRAME_F_EXPECT_CONTINUE
#define F_UPG	KANARY_FRAME_F_UPGRADE
#define F_H2	KANARY_FRAME_F_HTTP2
#define F_10	KANARY_FRAME_F_HTTP10
#define F_CONN	KANARY_FRAME_F_CONNECT_METHOD

#define REQ(n, b, res, body, blen, fl)		{ n, b, 0, 0, res, body, fl, 0, blen }
#define RSP(n, b, hr, res, body, blen, st, fl)	{ n, b, 1, hr, res, body, fl, st, blen }

#define RL	"GET / HTTP/1.1\r\nHost: a\r\n"
#define PL	"POST /u HTTP/1.1\r\nHost: a\r\n"
#define SL	"HTTP/1.1 200 OK\r\n"

const struct kt_frame_case kt_frame_cases[] = {
	/* requests: framing */
	REQ("get", RL "\r\n", OK, NONE, 0, 0),
	REQ("no header lines", "GET / HTTP/1.1\r\n\r\n", OK, NONE, 0, 0),
	REQ("content-length", PL "Content-Length: 5\r\n\r\nhello", OK, LEN, 5, 0),
	REQ("content-length 0", PL "Content-Length: 0\r\n\r\n", OK, LEN, 0, 0),
	REQ("name any case, no OWS", PL "content-LENGTH:7\r\n\r\n", OK, LEN, 7, 0),
	REQ("OWS trimmed", PL "Content-Length: \t 12 \t\r\n\r\n", OK, LEN, 12, 0),
	REQ("list of equal lengths", PL "Content-Length: 5, 5\r\n\r\n", OK, LEN, 5, 0),
	REQ("list without OWS", PL "Content-Length: 5,5,5\r\n\r\n", OK, LEN, 5, 0),
	REQ("two equal lines", PL "Content-Length: 5\r\ncontent-length: 5\r\n\r\n", OK, LEN, 5, 0),
	REQ("12 digits", PL "Content-Length: 999999999999\r\n\r\n", OK, LEN, 999999999999ull, 0),
	REQ("12 digits, leading zeros", PL "Content-Length: 000000000005\r\n\r\n", OK, LEN, 5, 0),
	REQ("body looks like a head", PL "Content-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	    OK, LEN, 18, 0),
	REQ("pipelined: the first head", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
	    OK, NONE, 0, 0),
	REQ("chunked", PL "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	    OK, CHUNK, 0, 0),
	REQ("chunked any case", PL "transfer-encoding: ChUnKeD\r\n\r\n", OK, CHUNK, 0, 0),
	REQ("chunked last of a list", PL "Transfer-Encoding: gzip, chunked\r\n\r\n", OK, CHUNK, 0, 0),
	REQ("chunked on a later line", PL "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
	    OK, CHUNK, 0, 0),
	REQ("coding with parameters", PL "Transfer-Encoding: gzip;q=1 , chunked \r\n\r\n",
	    OK, CHUNK, 0, 0),
	REQ("similar names are other headers",
	    PL "Content-Lengthy: x\r\nX-Content-Length: y\r\nTransfer-Encodings: z\r\n\r\n",
	    OK, NONE, 0, 0),
	REQ("obs-text in another value", RL "X: caf\xc3\xa9\r\n\r\n", OK, NONE, 0, 0),
	/* requests: smuggling and malformed framing */
	REQ("TE and CL", PL "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL and TE", PL "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE not chunked", PL "Transfer-Encoding: gzip\r\n\r\n", BAD, NONE, 0, 0),
	REQ("chunked not last", PL "Transfer-Encoding: chunked, gzip\r\n\r\n", BAD, NONE, 0, 0),
	REQ("chunked not last, two lines", PL "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	    BAD, NONE, 0, 0),
	REQ("chunked twice", PL "Transfer-Encoding: chunked, chunked\r\n\r\n", BAD, NONE, 0, 0),
	REQ("chunked with parameters", PL "Transfer-Encoding: chunked;x=1\r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE empty", PL "Transfer-Encoding: \r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE trailing comma", PL "Transfer-Encoding: chunked,\r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE empty element", PL "Transfer-Encoding: gzip,,chunked\r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE quoted", PL "Transfer-Encoding: \"chunked\"\r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE two words", PL "Transfer-Encoding: chunked x\r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE vertical tab", PL "Transfer-Encoding: \x0b" "chunked\r\n\r\n", BAD, NONE, 0, 0),
	REQ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", BAD, NONE, 0, F_10),
	REQ("space before colon", PL "Transfer-Encoding : chunked\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL list differs", PL "Content-Length: 5, 6\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL lines differ", PL "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL sign", PL "Content-Length: +5\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL negative", PL "Content-Length: -1\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL hex", PL "Content-Length: 0x5\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL trailing letter", PL "Content-Length: 5a\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL two numbers", PL "Content-Length: 5 5\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL empty", PL "Content-Length: \r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL trailing comma", PL "Content-Length: 5,\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL leading comma", PL "Content-Length: ,5\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL empty element", PL "Content-Length: 5,,5\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL 13 digits", PL "Content-Length: 0000000000005\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CL obs-text", PL "Content-Length: 5\xb9\r\n\r\n", BAD, NONE, 0, 0),
	/* requests: flags */
	REQ("HEAD", "HEAD / HTTP/1.1\r\n\r\n", OK, NONE, 0, F_HEAD),
	REQ("head is not HEAD", "head / HTTP/1.1\r\n\r\n", OK, NONE, 0, 0),
	REQ("HEADX is not HEAD", "HEADX / HTTP/1.1\r\n\r\n", OK, NONE, 0, 0),
	REQ("CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", OK, NONE, 0, F_CONN),
	REQ("Connection: close", RL "Connection: close\r\n\r\n", OK, NONE, 0, F_CLOSE),
	REQ("close in a list, any case", RL "connection: keep-alive, Close\r\n\r\n", OK, NONE, 0, F_CLOSE),
	REQ("close among empty elements", RL "Connection: ,close ,\r\n\r\n", OK, NONE, 0, F_CLOSE),
	REQ("close on a second line", RL "Connection: te\r\nConnection: close\r\n\r\n", OK, NONE, 0, F_CLOSE),
	REQ("closed is not close", RL "Connection: closed\r\n\r\n", OK, NONE, 0, 0),
	REQ("close x is not close", RL "Connection: close x\r\n\r\n", OK, NONE, 0, 0),
	REQ("keep-alive", RL "Connection: keep-alive\r\n\r\n", OK, NONE, 0, 0),
	REQ("close in another header", RL "X-Connection: close\r\nX: close\r\n\r\n", OK, NONE, 0, 0),
	REQ("Expect: 100-continue", PL "Content-Length: 3\r\nExpect: 100-continue\r\n\r\n",
	    OK, LEN, 3, F_100),
	REQ("expect any case", PL "expect:  100-Continue \r\nContent-Length: 3\r\n\r\n",
	    OK, LEN, 3, F_100),
	REQ("expect something else", RL "Expect: 100-continuex\r\n\r\n", OK, NONE, 0, 0),
	REQ("Upgrade", RL "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", OK, NONE, 0, F_UPG),
	REQ("HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", OK, NONE, 0, F_10),
	REQ("HTTP/1.0 close", "GET / HTTP/1.0\r\nConnection: close\r\n\r\n", OK, NONE, 0, F_10 | F_CLOSE),
	REQ("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", BAD, NONE, 0, F_H2),
	REQ("preface alone", "PRI * HTTP/2.0", BAD, NONE, 0, F_H2),
	REQ("preface cut short", "PRI * HTTP/2.", PART, NONE, 0, 0),
	REQ("preface gone wrong", "PRI * HTTP/2.1\r\n\r\n", BAD, NONE, 0, 0),
	REQ("PRI over HTTP/1.1", "PRI * HTTP/1.1\r\n\r\n", OK, NONE, 0, 0),
	REQ("HTTP/2 elsewhere", "GET / HTTP/2.0\r\n\r\n", BAD, NONE, 0, 0),
	/* requests: malformed heads */
	REQ("empty", "", PART, NONE, 0, 0),
	REQ("cut short", RL "Content-Length: 5\r\n", PART, NONE, 0, 0),
	REQ("bare LF after the request line", "GET / HTTP/1.1\n\r\n", BAD, NONE, 0, 0),
	REQ("bare LF after a header", RL "X: a\n\r\n", BAD, NONE, 0, 0),
	REQ("bare LF ends the head", RL "\n", BAD, NONE, 0, 0),
	REQ("bare CR in a value", RL "X: a\rb\r\n\r\n", BAD, NONE, 0, 0),
	REQ("CR CR", RL "\r\r\n", BAD, NONE, 0, 0),
	REQ("two spaces", "GET  / HTTP/1.1\r\n\r\n", BAD, NONE, 0, 0),
	REQ("leading space", " GET / HTTP/1.1\r\n\r\n", BAD, NONE, 0, 0),
	REQ("lowercase version", "GET / http/1.1\r\n\r\n", BAD, NONE, 0, 0),
	REQ("space after the version", "GET / HTTP/1.1 \r\n\r\n", BAD, NONE, 0, 0),
	REQ("no version", "GET /\r\n\r\n", BAD, NONE, 0, 0),
	REQ("DEL in the target", "GET /\x7f HTTP/1.1\r\n\r\n", BAD, NONE, 0, 0),
	REQ("obs-fold", RL "X: a\r\n b\r\n\r\n", BAD, NONE, 0, 0),
	REQ("no colon", RL "X\r\n\r\n", BAD, NONE, 0, 0),
	REQ("empty name", RL ": x\r\n\r\n", BAD, NONE, 0, 0),
	REQ("control byte in a value", RL "X: a\x01" "b\r\n\r\n", BAD, NONE, 0, 0),
	REQ("a status line is no request", "HTTP/1.1 200 OK\r\n\r\n", BAD, NONE, 0, 0),
	/* responses */
	RSP("200 content-length", SL "Content-Length: 5\r\n\r\nhello", 0, OK, LEN, 5, 200, 0),
	RSP("200 chunked", SL "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, OK, CHUNK, 0, 200, 0),
	RSP("200 gzip, chunked", SL "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, OK, CHUNK, 0, 200, 0),
	RSP("200 gzip: until close", SL "Transfer-Encoding: gzip\r\n\r\n", 0, OK, CLOSE, 0, 200, 0),
	RSP("TE overrides CL", SL "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    0, OK, CHUNK, 0, 200, 0),
	RSP("no length: until close", SL "Server: x\r\n\r\n", 0, OK, CLOSE, 0, 200, 0),
	RSP("404 length 0", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0, OK, LEN, 0, 404, 0),
	RSP("empty reason", "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n", 0, OK, LEN, 1, 200, 0),
	RSP("reason with HTAB and obs-text", "HTTP/1.1 200 O\tK \xe9\r\n\r\n", 0, OK, CLOSE, 0, 200, 0),
	RSP("599", "HTTP/1.1 599 x\r\n\r\n", 0, OK, CLOSE, 0, 599, 0),
	RSP("HEAD answered", SL "Content-Length: 100\r\n\r\n", 1, OK, NONE, 0, 200, 0),
	RSP("HEAD answered chunked", SL "Transfer-Encoding: chunked\r\n\r\n", 1, OK, NONE, 0, 200, 0),
	RSP("204", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", 0, OK, NONE, 0, 204, 0),
	RSP("304", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 0, OK, NONE, 0, 304, 0),
	RSP("100 continue", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0, OK, NONE, 0, 100, 0),
	RSP("199", "HTTP/1.1 199 x\r\n\r\n", 0, OK, NONE, 0, 199, 0),
	RSP("101 upgrade", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
	    0, OK, NONE, 0, 101, F_UPG),
	RSP("Upgrade header on a 200", SL "Upgrade: h2c\r\nContent-Length: 0\r\n\r\n", 0, OK, LEN, 0, 200, 0),
	RSP("Expect ignored", SL "Expect: 100-continue\r\nContent-Length: 0\r\n\r\n", 0, OK, LEN, 0, 200, 0),
	RSP("Connection: close", SL "Connection: close\r\nContent-Length: 0\r\n\r\n",
	    0, OK, LEN, 0, 200, F_CLOSE),
	RSP("HTTP/1.0", "HTTP/1.0 200 OK\r\n\r\n", 0, OK, CLOSE, 0, 200, F_10),
	RSP("HTTP/1.0 with TE", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    0, BAD, NONE, 0, 200, F_10),
	RSP("CL differs", SL "Content-Length: 5\r\nContent-Length: 7\r\n\r\n", 0, BAD, NONE, 0, 200, 0),
	RSP("CL bad on a 204", "HTTP/1.1 204 x\r\nContent-Length: x\r\n\r\n", 0, BAD, NONE, 0, 204, 0),
	RSP("chunked not last", SL "Transfer-Encoding: chunked, gzip\r\n\r\n", 0, BAD, NONE, 0, 200, 0),
	RSP("chunked twice", SL "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    0, BAD, NONE, 0, 200, 0),
	RSP("no reason SP", "HTTP/1.1 200\r\n\r\n", 0, BAD, NONE, 0, 200, 0),
	RSP("two digits", "HTTP/1.1 20 OK\r\n\r\n", 0, BAD, NONE, 0, 20, 0),
	RSP("four digits", "HTTP/1.1 2000 OK\r\n\r\n", 0, BAD, NONE, 0, 200, 0),
	RSP("status 099", "HTTP/1.1 099 x\r\n\r\n", 0, BAD, NONE, 0, 99, 0),
	RSP("status 600", "HTTP/1.1 600 x\r\n\r\n", 0, BAD, NONE, 0, 600, 0),
	RSP("control byte in the reason", "HTTP/1.1 200 O\x01K\r\n\r\n", 0, BAD, NONE, 0, 200, 0),
	RSP("HTTP/2", "HTTP/2 200\r\n\r\n", 0, BAD, NONE, 0, 0, 0),
	RSP("bare LF after the status line", "HTTP/1.1 200 OK\n\r\n", 0, BAD, NONE, 0, 200, 0),
	RSP("a preface is no response", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0, BAD, NONE, 0, 0, 0),
	RSP("a request is no response", "GET / HTTP/1.1\r\n\r\n", 0, BAD, NONE, 0, 0, 0),
	RSP("cut short", SL "Content-Length: 5\r\n", 0, PART, NONE, 0, 200, 0),
	RSP("empty", "", 0, PART, NONE, 0, 0, 0),
};

const size_t kt_frame_n_cases = sizeof(kt_frame_cases) / sizeof(kt_frame_cases[0]);

void kt_frame_case_run(const struct kt_frame_case *c, size_t len, struct kanary_http_frame *f)
{
	if (c->response)
		kanary_http_frame_response(f, (const __u8 *)c->bytes, (__u32)len, c->head_request);
	else
		kanary_http_frame_request(f, (const __u8 *)c->bytes, (__u32)len);
}

int kt_frame_case_agrees(const struct kt_frame_case *c, const struct kanary_http_frame *f,
			 char *msg, size_t cap)
{
	const char *end = strstr(c->bytes, "\r\n\r\n");
	unsigned head_len = c->result == KANARY_FRAME_COMPLETE && end ?
			    (unsigned)(end + 4 - c->bytes) : 0;
	unsigned body_len = c->result == KANARY_FRAME_COMPLETE && c->body == KANARY_BODY_LENGTH;

	if (f->result == c->result && f->flags == c->flags && f->status == c->status &&
	    f->head_len == head_len && (c->result != KANARY_FRAME_COMPLETE || f->body == c->body) &&
	    f->body_len == (body_len ? c->body_len : 0))
		return 1;
	snprintf(msg, cap, "%s: result %u body %u flags 0x%x status %u head_len %u body_len %llu; "
		 "expected result %u body %u flags 0x%x status %u head_len %u body_len %llu",
		 c->name, f->result, f->body, f->flags, f->status, f->head_len,
		 (unsigned long long)f->body_len, c->result, c->body, c->flags, c->status,
		 head_len, (unsigned long long)(body_len ? c->body_len : 0));
	return 0;
}

int kt_frame_same_answer(const struct kanary_http_frame *a, const struct kanary_http_frame *b)
{
	return a->result == b->result && a->body == b->body && a->flags == b->flags &&
	       a->status == b->status && a->head_len == b->head_len && a->body_len == b->body_len;
}
