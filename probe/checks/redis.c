/*
 * redis.c - the "redis" check: hiredis 0.14's async API with its libev
 * adapter on the prober's loop; AUTH, SELECT, then one command whose reply
 * is judged. Knows nothing of suites, reports or exporters; depends on
 * hiredis, libev and probe/.
 *
 * hiredis resolves names by blocking and has no timeouts: the host is
 * resolved by vd_resolve first and hiredis gets a numeric address; the
 * deadline is the engine's. hiredis may free its context by itself (after
 * a failed connect or a lost connection, once our callback returns), so
 * run->ac is cleared in those callbacks and only a context still held is
 * freed, from cancel(), never from inside a hiredis callback. Debian's
 * hiredis 0.14 has no TLS: rediss:// is refused when the suite is loaded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <hiredis/adapters/libev.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "../../lib/cfg.h"
#include "../probe_int.h"
#include "../../lib/util.h"
#include "checks.h"

/* hiredis 0.14 reads at most this much per read event (hiredis.c). */
#define REDIS_READ_CHUNK ((size_t)16 * 1024)

enum want { WANT_ANY, WANT_TEXT, WANT_INT, WANT_REGEX, WANT_OPS };

struct redis_conf {
	char *host;	/* name or address; NULL with a unix socket */
	char *port;	/* "6379" */
	char *socket;	/* unix socket path, or NULL */
	char *user;	/* ACL user, or NULL */
	char *password; /* NULL: no AUTH */
	long db;	/* SELECT db when > 0 */
	char **argv;	/* the command */
	size_t argc;
	enum want want;
	char *want_text; /* WANT_TEXT, or the regex source */
	long long want_int;
	struct vd_regex *re;   /* WANT_REGEX */
	struct vd_expect *ops; /* WANT_OPS: operators on the reply */
};

enum step { STEP_AUTH, STEP_SELECT, STEP_COMMAND };

/* What a reply may declare (see limited_array): hiredis' reader hands
 * these to our array constructor through its privdata. */
struct redis_limits {
	struct vd_attempt *att; /* finished on a refusal; NULL when fuzzing */
	size_t max_body;	/* bytes */
	bool refused;
};

struct redis_run {
	struct vd_attempt *att;
	struct redis_limits limits;
	struct vd_resolve *res;
	struct addrinfo *ai;   /* the resolved addresses, tried in order */
	struct addrinfo *cur;  /* the one being tried */
	redisAsyncContext *ac; /* NULL once hiredis freed it or we did */
	bool freeing;	       /* cancel() is freeing: ignore callbacks */
	size_t bytes;	       /* bytes read from the server (approximate) */
	double t_connect;      /* ev_now when connect() started */
	double t_command;      /* ev_now when the command was sent */
	char addr[INET6_ADDRSTRLEN + 16]; /* the address being tried */
	struct vd_search *search;	  /* expect.reply.regex, off the loop */
	char *shown; /* the reply as shown, while it runs */
};

/* --- configuration ----------------------------------------------------- */

static void
redis_free(void *p)
{
	struct redis_conf *c = p;
	if (c == NULL)
		return;
	free(c->host);
	free(c->port);
	free(c->socket);
	free(c->user);
	vd_free_secret(c->password);
	vd_strlist_free(c->argv, c->argc);
	free(c->want_text);
	vd_regex_free(c->re);
	vd_expect_free(c->ops);
	free(c);
}

static int
parse_db(struct vd_cfg *cfg, const char *key, const char *s, long *out)
{
	char *end;
	long v;
	if (*s < '0' || *s > '9')
		return vd_cfg_error(cfg, key, "database must be a number");
	v = strtol(s, &end, 10);
	if (*end != '\0' || v > 100000)
		return vd_cfg_error(cfg, key, "database must be a number");
	*out = v;
	return 0;
}

/* redis://[[user]:password@]host[:port][/db]; like redis-cli, a user part
 * without a colon is the password. */
static int
parse_url(struct vd_cfg *cfg, struct redis_conf *rc, const char *url)
{
	CURLU *u;
	char *user = NULL, *pass = NULL, *host = NULL;
	char *port = NULL, *path = NULL, *query = NULL, *m;
	int r = 0;

	/* register the password before anything could print the URL */
	m = vd_mask_url(url);
	free(m);
	if (strncasecmp(url, "rediss://", 9) == 0)
		return vd_cfg_error(
			cfg, "url",
			"rediss:// (TLS) cannot be checked: Debian's "
			"hiredis 0.14 has no TLS support");
	if (strncasecmp(url, "redis://", 8) != 0)
		return vd_cfg_error(
			cfg, "url",
			"expected a redis:// URL "
			"(redis://[[user]:password@]host[:port][/db])");
	u = curl_url();
	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	    CURLUE_OK) {
		r = vd_cfg_error(cfg, "url",
				 "invalid URL (expected "
				 "redis://[[user]:password@]host[:port][/db])");
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (pass) {
		vd_secret_add(pass);
		rc->password = vd_xstrdup(pass);
		if (user && *user)
			rc->user = vd_xstrdup(user);
	} else if (user && *user) {
		vd_secret_add(user);
		rc->password = vd_xstrdup(user);
	}
	if (host == NULL || *host == '\0') {
		r = vd_cfg_error(cfg, "url", "URL has no host");
		goto out;
	}
	if (host[0] == '[') {
		size_t len = strlen(host);
		rc->host = vd_xstrndup(host + 1, len > 2 ? len - 2 : 0);
	} else {
		rc->host = vd_xstrdup(host);
	}
	rc->port = vd_xstrdup(port ? port : "6379");
	if (query) {
		r = vd_cfg_error(
			cfg, "url",
			"query parameters are not supported; the "
			"database goes in the path: redis://host:6379/2");
		goto out;
	}
	if (path && strcmp(path, "/") != 0 && *path)
		r = parse_db(cfg, "url", path + 1, &rc->db);
out:
	if (user)
		explicit_bzero(user, strlen(user));
	if (pass)
		explicit_bzero(pass, strlen(pass));
	curl_free(user);
	curl_free(pass);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return r;
}

static int
parse_expect(struct vd_cfg *parent, struct redis_conf *rc)
{
	struct vd_cfg c;
	const cJSON *it;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = 0;
	it = vd_cfg_take(&c, "reply");
	if (it == NULL) {
		rc->want = WANT_ANY;
	} else if (cJSON_IsString(it)) {
		rc->want = WANT_TEXT;
		rc->want_text = vd_xstrdup(it->valuestring);
	} else if (cJSON_IsNumber(it) &&
		   it->valuedouble == (double)(long long)it->valuedouble) {
		rc->want = WANT_INT;
		rc->want_int = (long long)it->valuedouble;
	} else if (cJSON_IsObject(it) && cJSON_GetArraySize(it) == 1 &&
		   cJSON_IsString(it->child) &&
		   strcmp(it->child->string, "regex") == 0) {
		char msg[200];
		rc->re = vd_regex_new(it->child->valuestring, 0, msg,
				      sizeof(msg));
		if (rc->re == NULL) {
			r = vd_cfg_error(&c, "reply.regex",
					 "invalid regular expression: %s", msg);
		} else {
			rc->want = WANT_REGEX;
			rc->want_text = vd_xstrdup(it->child->valuestring);
		}
	} else if (cJSON_IsObject(it)) {
		/* other operators judge the reply as a JSON value */
		rc->want = WANT_OPS;
		r = vd_expect_parse(&c, "reply", it, &rc->ops);
	} else {
		r = vd_cfg_error(&c, "reply",
				 "expected a string, an integer or an "
				 "operator object ({\"regex\": string}, "
				 "{\"gt\": 0}, ...)");
	}
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

static int
redis_parse(struct vd_check *chk, struct vd_cfg *cfg)
{
	struct redis_conf *rc = vd_xcalloc(1, sizeof(*rc));
	char *url = NULL, *penv = NULL, *host = NULL;
	long port = 6379;
	int r = 0;

	chk->conf = rc;
	if (vd_cfg_has(cfg, "tls")) {
		const cJSON *own = cfg->own ? cJSON_GetObjectItemCaseSensitive(
						      cfg->own, "tls")
					    : cfg->obj;
		vd_cfg_take(cfg, "tls");
		if (own)
			return vd_cfg_error(cfg, "tls",
					    "TLS to Redis is not available: "
					    "Debian's hiredis 0.14 has no TLS "
					    "support");
	}
	r = vd_cfg_str(cfg, "url", false, &url);
	if (!r)
		r = vd_cfg_str(cfg, "host", false, &host);
	if (!r && url &&
	    (host || vd_cfg_has(cfg, "port") || vd_cfg_has(cfg, "username") ||
	     vd_cfg_has(cfg, "db")))
		r = vd_cfg_error(cfg, "url",
				 "give either url or host/port/username/db, "
				 "not both");
	if (!r && url == NULL && host == NULL)
		r = vd_cfg_error(cfg, NULL,
				 "a redis check needs \"url\" "
				 "(redis://[[user]:password@]host[:port][/db]) "
				 "or \"host\"");
	if (!r && url)
		r = parse_url(cfg, rc, url);
	if (!r && host) {
		if (*host == '\0') {
			r = vd_cfg_error(cfg, "host", "is empty");
		} else if (host[0] == '/') {
			rc->socket = vd_xstrdup(host);
		} else {
			rc->host = vd_xstrdup(host);
		}
		if (!r)
			r = vd_cfg_int(cfg, "port", 1, 65535, &port);
		if (!r && rc->host) {
			char buf[16];
			snprintf(buf, sizeof(buf), "%ld", port);
			rc->port = vd_xstrdup(buf);
		}
		if (!r)
			r = vd_cfg_str(cfg, "username", false, &rc->user);
		if (!r)
			r = vd_cfg_int(cfg, "db", 0, 100000, &rc->db);
	}
	if (!r)
		r = vd_cfg_str(cfg, "password_env", false, &penv);
	if (!r && penv) {
		const char *secret = getenv(penv);
		if (rc->password)
			r = vd_cfg_error(cfg, "password_env",
					 "the URL has a password already");
		else if (secret == NULL || *secret == '\0')
			r = vd_cfg_error(cfg, "password_env",
					 "environment variable %s is not set",
					 penv);
		else {
			vd_secret_add(secret);
			rc->password = vd_xstrdup(secret);
		}
	}
	if (!r && rc->user && rc->password == NULL)
		r = vd_cfg_error(cfg, "username",
				 "an ACL user needs a password (password_env)");
	if (!r)
		r = vd_cfg_strlist(cfg, "command", &rc->argv, &rc->argc);
	if (!r && vd_cfg_has(cfg, "command") && rc->argc == 0)
		r = vd_cfg_error(cfg, "command",
				 "expected a non-empty list of strings, like "
				 "[\"GET\", \"key\"]");
	if (!r && rc->argc == 0) {
		rc->argv = vd_xcalloc(1, sizeof(char *));
		rc->argv[0] = vd_xstrdup("PING");
		rc->argc = 1;
	}
	if (!r && rc->argc > 0 && *rc->argv[0] == '\0')
		r = vd_cfg_error(cfg, "command", "the command name is empty");
	if (!r)
		r = parse_expect(cfg, rc);
	if (!r && !vd_cfg_has(cfg, "expect") && rc->argc == 1 &&
	    strcasecmp(rc->argv[0], "PING") == 0) {
		rc->want = WANT_TEXT;
		rc->want_text = vd_xstrdup("PONG");
	}
	if (!r) {
		char *t;
		if (rc->socket)
			t = vd_xasprintf("redis+unix://%s%s%s?db=%ld",
					 rc->user ? rc->user : "",
					 rc->user ? "@" : "", rc->socket,
					 rc->db);
		else
			t = vd_xasprintf(
				"redis://%s%s%s%s%s:%s/%ld",
				rc->user ? rc->user : "", rc->user ? "@" : "",
				strchr(rc->host, ':') ? "[" : "", rc->host,
				strchr(rc->host, ':') ? "]" : "", rc->port,
				rc->db);
		free(chk->target);
		chk->target = vd_mask(t);
		free(t);
	}
	vd_free_secret(url);
	free(penv);
	free(host);
	return r;
}

/* --- running ----------------------------------------------------------- */

/* The reply as text, for comparing (arrays: elements joined by "\n"). */
static void
reply_text(const redisReply *rep, struct vd_buf *b)
{
	size_t i;
	switch (rep->type) {
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_ERROR:
		vd_buf_append(b, rep->str, rep->len);
		break;
	case REDIS_REPLY_INTEGER:
		vd_buf_printf(b, "%lld", rep->integer);
		break;
	case REDIS_REPLY_NIL:
		vd_buf_puts(b, "(nil)");
		break;
	case REDIS_REPLY_ARRAY:
		for (i = 0; i < rep->elements; i++) {
			if (i)
				vd_buf_puts(b, "\n");
			reply_text(rep->element[i], b);
		}
		break;
	default:
		break;
	}
}

/* The reply for people, as redis-cli shows it (short). */
static char *
reply_show(const redisReply *rep)
{
	struct vd_buf b;
	vd_buf_init(&b, 0);
	switch (rep->type) {
	case REDIS_REPLY_INTEGER:
		vd_buf_printf(&b, "(integer) %lld", rep->integer);
		break;
	case REDIS_REPLY_NIL:
		vd_buf_puts(&b, "(nil)");
		break;
	case REDIS_REPLY_ARRAY:
		vd_buf_printf(&b, "(array of %zu)", rep->elements);
		break;
	default: {
		/* masked, then cut: cutting first could leave a secret's start
		 */
		char *raw = vd_xstrndup(rep->str ? rep->str : "", rep->len);
		char *m = vd_mask_brief(raw, 80);
		vd_buf_printf(&b, "\"%s\"", m);
		vd_free_secret(raw);
		vd_free_secret(m);
		break;
	}
	}
	return vd_buf_steal(&b);
}

/* The reply as a JSON value for operators: integers are numbers, nil is
 * null, arrays are arrays (their depth bounded by hiredis' own limit). */
static cJSON *
reply_json(const redisReply *rep)
{
	cJSON *a;
	size_t i;
	switch (rep->type) {
	case REDIS_REPLY_INTEGER:
		return cJSON_CreateNumber((double)rep->integer);
	case REDIS_REPLY_NIL:
		return cJSON_CreateNull();
	case REDIS_REPLY_ARRAY:
		a = cJSON_CreateArray();
		for (i = 0; i < rep->elements; i++)
			cJSON_AddItemToArray(a, reply_json(rep->element[i]));
		return a;
	default: {
		char *s = vd_xstrndup(rep->str ? rep->str : "", rep->len);
		cJSON *v = cJSON_CreateString(s);
		free(s);
		return v;
	}
	}
}

/* Finishes the attempt for an error reply of step. */
static void
error_reply(struct redis_run *run, enum step step, const redisReply *rep)
{
	struct vd_attempt *att = run->att;
	const struct redis_conf *rc = att->check->conf;
	const char *s = rep->str;
	int len = rep->len > 200 ? 200 : (int)rep->len;

	if (vd_startswith(s, "LOADING")) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_UNAVAILABLE,
				  "dataset loading: %.*s", len, s);
	} else if (vd_startswith(s, "BUSY") || vd_startswith(s, "MASTERDOWN") ||
		   vd_startswith(s, "TRYAGAIN")) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_UNAVAILABLE,
				  "server busy: %.*s", len, s);
	} else if (step == STEP_AUTH || vd_startswith(s, "NOAUTH") ||
		   vd_startswith(s, "WRONGPASS") ||
		   vd_startswith(s, "NOPERM")) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_AUTH,
				  "authentication failed: %.*s", len, s);
	} else if (step == STEP_SELECT) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "SELECT %ld failed: %.*s", rc->db, len, s);
	} else {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "%s: error reply: %.*s", rc->argv[0], len, s);
	}
}

static void
reply_searched(enum vd_match m, const char *limit, void *udata)
{
	struct redis_run *run = udata;
	struct vd_attempt *att = run->att;
	const struct redis_conf *rc = att->check->conf;

	if (m == VD_MATCH_LIMIT)
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_LIMIT,
				  "%s: matching the reply against /%.80s/ hit "
				  "the %s",
				  rc->argv[0], rc->want_text, limit);
	else if (m == VD_MATCH_YES)
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE, "%s: %s",
				  rc->argv[0], run->shown);
	else
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "%s: reply %s, expected a match for /%.80s/",
				  rc->argv[0], run->shown, rc->want_text);
}

static void
judge(struct redis_run *run, const redisReply *rep)
{
	struct vd_attempt *att = run->att;
	const struct redis_conf *rc = att->check->conf;
	struct vd_buf text;
	char *shown = reply_show(rep), want[400];
	bool ok = true;

	vd_buf_init(&text, att->check->max_body);
	reply_text(rep, &text);
	switch (rc->want) {
	case WANT_ANY:
		break;
	case WANT_TEXT:
		ok = rep->type != REDIS_REPLY_ARRAY &&
		     strlen(rc->want_text) == text.len &&
		     memcmp(rc->want_text, text.data, text.len) == 0;
		snprintf(want, sizeof(want), "\"%.80s\"", rc->want_text);
		break;
	case WANT_INT:
		ok = (rep->type == REDIS_REPLY_INTEGER &&
		      rep->integer == rc->want_int);
		if (!ok && rep->type == REDIS_REPLY_STRING) {
			char n[32];
			snprintf(n, sizeof(n), "%lld", rc->want_int);
			ok = strcmp(n, text.data) == 0;
		}
		snprintf(want, sizeof(want), "(integer) %lld", rc->want_int);
		break;
	case WANT_OPS: {
		cJSON *v = reply_json(rep);
		enum vd_match m =
			vd_expect_judge(rc->ops, v, want, sizeof(want));
		cJSON_Delete(v);
		if (m != VD_MATCH_YES) {
			vd_attempt_finish_mismatch(att, m, VD_REASON_VALUE,
						   "%s: reply %s", rc->argv[0],
						   want);
			vd_buf_free(&text);
			free(shown);
			return;
		}
		break;
	}
	case WANT_REGEX:
		run->shown = shown;
		run->search = vd_search_start(att, rc->re, text.data, text.len,
					      reply_searched, run);
		vd_buf_free(&text);
		return;
	}
	if (ok)
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE, "%s: %s",
				  rc->argv[0], shown);
	else
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "%s: reply %s, expected %s", rc->argv[0],
				  shown, want);
	vd_buf_free(&text);
	free(shown);
}

static void send_step(struct redis_run *run, enum step step);

static void
reply_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_run *run = ac->data;
	const redisReply *rep = r;
	enum step step = (enum step)(size_t)privdata;
	const struct redis_conf *rc;

	if (run == NULL || run->freeing || run->att->finished)
		return;
	rc = run->att->check->conf;
	if (rep == NULL) {
		/* the connection is going away; hiredis frees the context */
		vd_attempt_finish(run->att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "connection lost: %s",
				  ac->errstr ? ac->errstr : "closed");
		return;
	}
	if (step == STEP_COMMAND &&
	    run->att->result->timings[VD_PHASE_FIRST_BYTE] < 0)
		run->att->result->timings[VD_PHASE_FIRST_BYTE] =
			ev_now(run->att->loop) - run->t_command;
	if (rep->type == REDIS_REPLY_ERROR) {
		error_reply(run, step, rep);
		return;
	}
	switch (step) {
	case STEP_AUTH:
		send_step(run, rc->db > 0 ? STEP_SELECT : STEP_COMMAND);
		break;
	case STEP_SELECT:
		send_step(run, STEP_COMMAND);
		break;
	case STEP_COMMAND:
		judge(run, rep);
		break;
	}
}

static void
send_step(struct redis_run *run, enum step step)
{
	const struct redis_conf *rc = run->att->check->conf;
	const char *argv[3];
	char db[24];
	int argc = 0, ok;

	switch (step) {
	case STEP_AUTH:
		argv[argc++] = "AUTH";
		if (rc->user)
			argv[argc++] = rc->user;
		argv[argc++] = rc->password;
		ok = redisAsyncCommandArgv(run->ac, reply_cb, (void *)STEP_AUTH,
					   argc, argv, NULL);
		break;
	case STEP_SELECT:
		snprintf(db, sizeof(db), "%ld", rc->db);
		argv[argc++] = "SELECT";
		argv[argc++] = db;
		ok = redisAsyncCommandArgv(run->ac, reply_cb,
					   (void *)STEP_SELECT, argc, argv,
					   NULL);
		break;
	case STEP_COMMAND:
	default:
		run->t_command = ev_now(run->att->loop);
		ok = redisAsyncCommandArgv(run->ac, reply_cb,
					   (void *)STEP_COMMAND, (int)rc->argc,
					   (const char **)rc->argv, NULL);
		break;
	}
	if (ok != REDIS_OK)
		vd_attempt_finish(run->att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "could not send %s: %s",
				  step == STEP_AUTH	? "AUTH"
				  : step == STEP_SELECT ? "SELECT"
							: rc->argv[0],
				  run->ac->errstr ? run->ac->errstr
						  : "disconnecting");
}

static enum vd_reason
errstr_kind(const char *errstr)
{
	if (errstr && strstr(errstr, strerror(ECONNREFUSED)))
		return VD_REASON_REFUSED;
	if (errstr && strstr(errstr, strerror(ENOENT)))
		return VD_REASON_REFUSED; /* no unix socket: no server */
	return VD_REASON_CONNECT;
}

static void connect_next(struct redis_run *run);

/* The current address failed: tries the next one, or finishes. */
static void
connect_failed(struct redis_run *run, const char *errstr)
{
	struct vd_attempt *att = run->att;
	enum vd_reason kind = errstr_kind(errstr);

	if (!att->finished && run->cur && run->cur->ai_next) {
		run->cur = run->cur->ai_next;
		connect_next(run);
		return;
	}
	att->result->timings[VD_PHASE_CONNECT] =
		ev_now(att->loop) - run->t_connect;
	vd_attempt_finish(att, VD_STATUS_ERROR, kind, "%s: %s (%s)",
			  kind == VD_REASON_REFUSED ? "server down"
						    : "connect failed",
			  errstr ? errstr : "?", run->addr);
}

static void
connect_cb(const redisAsyncContext *ac, int status)
{
	struct redis_run *run = ac->data;
	struct vd_attempt *att;
	const struct redis_conf *rc;

	if (run == NULL || run->freeing)
		return;
	att = run->att;
	rc = att->check->conf;
	if (status != REDIS_OK) {
		/* hiredis frees this context when we return */
		if (run->ac == ac)
			run->ac = NULL;
		connect_failed(run, ac->errstr);
		return;
	}
	att->result->timings[VD_PHASE_CONNECT] =
		ev_now(att->loop) - run->t_connect;
	vd_result_fact_str(att->result, "address", run->addr);
	if (att->finished)
		return;
	if (rc->password)
		send_step(run, STEP_AUTH);
	else
		send_step(run, rc->db > 0 ? STEP_SELECT : STEP_COMMAND);
}

static void
disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct redis_run *run = ac->data;
	(void)status;
	if (run == NULL)
		return;
	/* hiredis frees the context when we return (or is freeing it) */
	if (run->ac == ac)
		run->ac = NULL;
	/* freeing, or the reply is in and being searched */
	if (run->freeing || run->search != NULL)
		return;
	vd_attempt_finish(run->att, VD_STATUS_ERROR, VD_REASON_CONNECT,
			  "connection closed by the server%s%s",
			  ac->errstr ? ": " : "", ac->errstr ? ac->errstr : "");
}

/* hiredis' own constructors, and ours with createArray limited. */
static void *(*hiredis_array)(const redisReadTask *, int);
static redisReplyObjectFunctions limited_fns;

/* A declared size max_body cannot hold: an error, at once. */
static void
refuse(struct redis_limits *l, bool array, long long n)
{
	l->refused = true;
	if (l->att)
		vd_attempt_finish(l->att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				  "reply declares %s of %lld %s, more than "
				  "max_body (%zu bytes) %s",
				  array ? "an array" : "a string", n,
				  array ? "elements" : "bytes", l->max_body,
				  array ? "can hold" : "allows");
}

/* An array header was read: every element takes at least 3 bytes
 * ("+\r\n"), so a count max_body cannot hold is refused before hiredis
 * allocates a pointer for each ("*2000000000" would be 16 GB). */
static void *
limited_array(const redisReadTask *task, int elements)
{
	struct redis_limits *l = task->privdata;
	if (l && (elements < 0 || (size_t)elements > l->max_body / 3)) {
		refuse(l, true, (long long)elements);
		return NULL; /* hiredis then drops the connection */
	}
	return hiredis_array(task, elements);
}

static void
limit_reader(redisReader *r, struct redis_limits *l)
{
	if (hiredis_array == NULL) {
		limited_fns = *r->fn;
		hiredis_array = limited_fns.createArray;
		limited_fns.createArray = limited_array;
	}
	r->fn = &limited_fns;
	r->privdata = l;
}

int
vd_redis_pending_check(const char *buf, size_t len, size_t max_body,
		       long long *declared)
{
	const char *nl;
	char *end;
	long long n;

	*declared = 0;
	nl = memchr(buf, '\r', len);
	if (nl == NULL || nl == buf)
		return 0; /* the length line is not complete yet */
	errno = 0;
	n = strtoll(buf, &end, 10);
	if (end != nl || (errno != 0 && !(errno == ERANGE && n > 0)))
		return 0; /* hiredis reports what it cannot parse */
	*declared = n;
	return n > 0 && (unsigned long long)n > max_body ? -1 : 0;
}

/* The bulk string hiredis' reader waits on declares more than max_body
 * (hiredis has read its '$' and keeps the length line until the whole
 * string is there), with that length in *n. */
static bool
pending_too_big(const redisReader *r, size_t max_body, long long *n)
{
	*n = 0;
	return r->ridx >= 0 && r->ridx < 9 &&
	       r->rstack[r->ridx].type == REDIS_REPLY_STRING && r->buf &&
	       r->pos <= r->len &&
	       vd_redis_pending_check(r->buf + r->pos, r->len - r->pos,
				      max_body, n) < 0;
}

/* After a read: a declared string past max_body fails now rather than
 * at the deadline. */
static void
check_pending(struct redis_run *run)
{
	long long n;

	if (run->ac == NULL || run->att->finished)
		return;
	if (pending_too_big(run->ac->c.reader, run->limits.max_body, &n))
		refuse(&run->limits, false, n);
}

void
vd_redis_fuzz_replies(const char *data, size_t len, size_t max_body)
{
	struct redis_limits l = {NULL, max_body, false};
	redisReader *r = redisReaderCreate();
	void *reply = NULL;
	long long n;

	limit_reader(r, &l);
	/* in pieces, as reads would deliver it */
	while (len > 0) {
		size_t piece = len > 7 ? 7 : len;
		if (redisReaderFeed(r, data, piece) != REDIS_OK)
			break;
		data += piece;
		len -= piece;
		if (pending_too_big(r, max_body, &n))
			break;
		while (redisReaderGetReply(r, &reply) == REDIS_OK && reply) {
			struct vd_buf b;
			char *shown = reply_show(reply);
			vd_buf_init(&b, max_body);
			reply_text(reply, &b);
			vd_buf_free(&b);
			free(shown);
			freeReplyObject(reply);
			reply = NULL;
		}
		if (r->err)
			break;
	}
	redisReaderFree(r);
}

/*
 * Wraps the adapter's read handler: counts what arrives against max_body
 * (hiredis 0.14 would buffer a reply of any size) before hiredis reads.
 */
static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	redisLibevEvents *e = w->data;
	redisAsyncContext *ac = e->context;
	struct redis_run *run = ac->data;
	int avail = 0;

	(void)revents;
	if (ioctl(w->fd, FIONREAD, &avail) == 0 && avail > 0)
		run->bytes += (size_t)avail > REDIS_READ_CHUNK
				      ? REDIS_READ_CHUNK
				      : (size_t)avail;
	if (run->bytes > run->att->check->max_body) {
		ev_io_stop(loop, w);
		vd_attempt_finish(run->att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				  "reply larger than max_body (%zu bytes)",
				  run->att->check->max_body);
		return;
	}
	redisAsyncHandleRead(ac); /* may free ac (run->ac is then NULL) */
	check_pending(run);
}

/* Connects to run->cur (a numeric address), or to the unix socket. */
static void
connect_next(struct redis_run *run)
{
	struct vd_attempt *att = run->att;
	const struct redis_conf *rc = att->check->conf;
	redisAsyncContext *ac;
	redisLibevEvents *e;

	if (run->cur) {
		char h[INET6_ADDRSTRLEN];
		if (getnameinfo(run->cur->ai_addr, run->cur->ai_addrlen, h,
				sizeof(h), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(h, sizeof(h), "?");
		snprintf(run->addr, sizeof(run->addr),
			 run->cur->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
			 h, rc->port);
		ac = redisAsyncConnect(h, atoi(rc->port));
	} else {
		snprintf(run->addr, sizeof(run->addr), "%s", rc->socket);
		ac = redisAsyncConnectUnix(rc->socket);
	}
	if (ac == NULL)
		abort(); /* out of memory */
	if (ac->err) {
		/* failed at once (no callback will come): ours to free */
		char err[128];
		snprintf(err, sizeof(err), "%s", ac->errstr);
		redisAsyncFree(ac);
		connect_failed(run, err);
		return;
	}
	ac->data = run;
	run->ac = ac;
	if (redisLibevAttach(att->loop, ac) != REDIS_OK) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "hiredis: could not attach to the loop");
		return;
	}
	e = ac->ev.data;
	ev_set_cb(&e->rev, read_cb);
	run->limits.att = att;
	run->limits.max_body = att->check->max_body;
	limit_reader(ac->c.reader, &run->limits);
	redisAsyncSetDisconnectCallback(ac, disconnect_cb);
	redisAsyncSetConnectCallback(ac, connect_cb);
}

static void
resolved_cb(struct addrinfo *ai, int gai_err, void *udata)
{
	struct redis_run *run = udata;
	struct vd_attempt *att = run->att;
	const struct redis_conf *rc = att->check->conf;

	run->res = NULL;
	att->result->timings[VD_PHASE_RESOLVE] = ev_now(att->loop) - att->start;
	if (ai == NULL) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_DNS,
				  "could not resolve %s: %s", rc->host,
				  gai_err == EAI_SYSTEM
					  ? strerror(errno)
					  : gai_strerror(gai_err));
		return;
	}
	run->ai = ai;
	run->cur = ai;
	run->t_connect = ev_now(att->loop);
	connect_next(run);
}

static void
redis_start(struct vd_attempt *att)
{
	const struct redis_conf *rc = att->check->conf;
	struct redis_run *run = vd_xcalloc(1, sizeof(*run));

	run->att = att;
	att->data = run;
	if (rc->socket) {
		run->t_connect = ev_now(att->loop);
		connect_next(run);
	} else {
		run->res = vd_resolve_start(att->prober, rc->host, rc->port,
					    SOCK_STREAM, resolved_cb, run);
	}
}

static void
redis_cancel(struct vd_attempt *att)
{
	struct redis_run *run = att->data;
	if (run == NULL)
		return;
	vd_search_free(run->search);
	free(run->shown);
	vd_resolve_cancel(run->res);
	if (run->ac) {
		/* Never inside a hiredis callback (the engine defers cancel):
		 * the context goes at once; pending reply callbacks and the
		 * disconnect callback run now and see 'freeing'. */
		run->freeing = true;
		redisAsyncFree(run->ac);
		run->ac = NULL;
	}
	if (run->ai)
		freeaddrinfo(run->ai);
	free(run);
}

static const struct vd_check_key redis_keys[] = {
	{"url", 0},
	{"host", 0},
	{"port", 0},
	{"db", 0},
	{"username", 0},
	{"password_env", 0},
	{"command", 0},
	{"expect", 0},
	{"max_body", 0},
	{"tls", VD_KEY_REFUSED}, /* hiredis 0.14: no TLS, said in a reason */
	{NULL, 0},
};

const struct vd_check_type vd_check_redis = {
	.name = "redis",
	.parse = redis_parse,
	.start = redis_start,
	.cancel = redis_cancel,
	.free = redis_free,
	.flags = 0,
	.keys = redis_keys,
};
