/*
 * postgres.c - the "postgres" check: connect with libpq's non-blocking API
 * on the loop, run one query, judge its first value, its row count, the
 * server version and whether the server is a primary. Knows nothing of
 * suites, reports or exporters; depends on libpq and probe/.
 *
 * Nothing here blocks the loop: the host name is resolved by vd_resolve
 * and handed to libpq as hostaddr (host stays for TLS and password
 * files); the connection, its login steps, the query and a cancel on the
 * server at the deadline are driven by the libpq-on-libev adapter
 * (probe/pq_ev.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libpq-fe.h>

#include "../../lib/cfg.h"
#include "../pq_ev.h"
#include "../probe_int.h"
#include "../../lib/util.h"
#include "checks.h"

/* Addresses of one name handed to libpq at most (it tries them in order). */
#define PG_MAX_ADDRS 8

struct pg_conf {
	char **keys; /* the DSN's options (libpq keywords), as given */
	char **vals;
	size_t nkv;
	char *host; /* a name to resolve into hostaddr, or NULL */
	char *port; /* for the resolver only: "5432" */
	char *query;
	/* expectations */
	char *value; /* first column of the first row, as text */
	struct vd_expect *value_ops; /* or operators on it ({"gt": 0}) */
	bool has_rows;
	long rows;
	char *min_version_src; /* "15", "14.2" */
	int min_version;       /* in PQserverVersion() form: 150000, 140002 */
	int primary; /* -1: not checked; 1: must be a primary; 0: standby */
};

enum pg_phase {
	PG_RESOLVING,
	PG_CONNECTING,
	PG_RECOVERY, /* SELECT pg_is_in_recovery() */
	PG_QUERY,
	PG_DONE,
};

struct pg_run {
	struct vd_attempt *att;
	struct vd_resolve *res;
	struct vd_pq_ev *pq; /* the connection, on the loop */
	enum pg_phase phase;
	double t_connect; /* ev_now when libpq started connecting */
	double t_query;	  /* ev_now when the query was sent */
	bool got_first;
	/* the statement being read (the last one of the query is judged) */
	bool stmt_done;
	long rows;
	char *value; /* NULL: no row yet */
	bool value_null;
	size_t bytes; /* result bytes read, against max_body */
};

/* --- configuration ----------------------------------------------------- */

static void
pg_free(void *p)
{
	struct pg_conf *c = p;
	size_t i;
	if (c == NULL)
		return;
	for (i = 0; i < c->nkv; i++) {
		free(c->keys[i]);
		vd_free_secret(c->vals[i]);
	}
	free(c->keys);
	free(c->vals);
	free(c->host);
	free(c->port);
	free(c->query);
	free(c->value);
	vd_expect_free(c->value_ops);
	free(c->min_version_src);
	free(c);
}

static const char *
conf_get(const struct pg_conf *c, const char *key)
{
	size_t i;
	for (i = 0; i < c->nkv; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->vals[i];
	return NULL;
}

static void
conf_set(struct pg_conf *c, const char *key, const char *val)
{
	size_t i;
	for (i = 0; i < c->nkv; i++) {
		if (strcmp(c->keys[i], key) == 0) {
			vd_free_secret(c->vals[i]);
			c->vals[i] = vd_xstrdup(val);
			return;
		}
	}
	c->keys = vd_xreallocarray(c->keys, c->nkv + 1, sizeof(char *));
	c->vals = vd_xreallocarray(c->vals, c->nkv + 1, sizeof(char *));
	c->keys[c->nkv] = vd_xstrdup(key);
	c->vals[c->nkv] = vd_xstrdup(val);
	c->nkv++;
}

static bool
is_keyword(const char *s, size_t len)
{
	PQconninfoOption *d = PQconndefaults(), *o;
	bool found = false;
	if (d == NULL)
		return false;
	for (o = d; o->keyword && !found; o++)
		found = strlen(o->keyword) == len &&
			strncmp(o->keyword, s, len) == 0;
	PQconninfoFree(d);
	return found;
}

/* libpq's DSN errors quote pieces of the DSN, which may hold the password
 * before it could be registered: keep only quoted keywords. */
static char *
redact_quoted(const char *msg)
{
	struct vd_buf b;
	const char *p = msg, *q, *end;

	vd_buf_init(&b, 0);
	while ((q = strchr(p, '"')) != NULL && (end = strchr(q + 1, '"'))) {
		vd_buf_append(&b, p, (size_t)(q - p));
		if (end - q - 1 <= 1 ||
		    is_keyword(q + 1, (size_t)(end - q - 1)))
			vd_buf_append(&b, q, (size_t)(end - q + 1));
		else
			vd_buf_puts(&b, "\"...\"");
		p = end + 1;
	}
	vd_buf_puts(&b, p);
	/* libpq ends its messages with a newline */
	while (b.len > 0 &&
	       (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
		b.data[--b.len] = '\0';
	return vd_buf_steal(&b);
}

static int
parse_dsn(struct vd_cfg *cfg, struct pg_conf *c, const char *dsn)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, *m;
	const char *host, *port;

	/* The raw (percent-encoded) password of a URL, then the decoded one. */
	m = vd_mask_url(dsn);
	free(m);
	opts = PQconninfoParse(dsn, &err);
	if (opts == NULL) {
		char *r = redact_quoted(err ? err : "out of memory");
		int rc = vd_cfg_error(cfg, "dsn", "invalid DSN: %s", r);
		free(r);
		PQfreemem(err);
		return rc;
	}
	for (o = opts; o->keyword; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "password") == 0)
			vd_secret_add(o->val);
		conf_set(c, o->keyword, o->val);
	}
	PQconninfoFree(opts);
	if (conf_get(c, "password") == NULL)
		vd_secret_add(getenv("PGPASSWORD"));

	/* libpq falls back to the environment for what the DSN leaves out;
	 * the name it would resolve must be resolved here instead. */
	host = conf_get(c, "host");
	if (host == NULL)
		host = getenv("PGHOST");
	port = conf_get(c, "port");
	if (port == NULL)
		port = getenv("PGPORT");
	if ((host && strchr(host, ',')) || (port && strchr(port, ',')) ||
	    (conf_get(c, "hostaddr") && strchr(conf_get(c, "hostaddr"), ',')))
		return vd_cfg_error(
			cfg, "dsn",
			"several hosts in one DSN are not supported: "
			"write one check per server");
	if (conf_get(c, "port")) {
		char *end;
		long v = strtol(conf_get(c, "port"), &end, 10);
		if (*end != '\0' || v < 1 || v > 65535)
			return vd_cfg_error(cfg, "dsn",
					    "invalid DSN: the port must be a "
					    "number from 1 to 65535");
	}
	if (conf_get(c, "service"))
		return vd_cfg_error(cfg, "dsn",
				    "\"service\" is not supported (its host "
				    "would be resolved by blocking); write the "
				    "connection parameters out");
	if (host && *host && host[0] != '/' && host[0] != '@' &&
	    conf_get(c, "hostaddr") == NULL && getenv("PGHOSTADDR") == NULL) {
		c->host = vd_xstrdup(host);
		c->port = vd_xstrdup(port && *port ? port : "5432");
	}
	return 0;
}

/* "15", "14.2", "9.6", "9.6.3" -> PQserverVersion() form, or -1. */
static int
parse_version(const char *s)
{
	long part[3] = {0, 0, 0};
	int n = 0;
	char *end;

	for (;;) {
		if (*s < '0' || *s > '9')
			return -1;
		part[n] = strtol(s, &end, 10);
		if (part[n] > 999)
			return -1;
		n++;
		if (*end == '\0')
			break;
		if (*end != '.' || n == 3)
			return -1;
		s = end + 1;
	}
	if (part[0] >= 10) {
		if (n > 2)
			return -1;
		return (int)(part[0] * 10000 + part[1]);
	}
	return (int)(part[0] * 10000 + part[1] * 100 + part[2]);
}

static int
parse_expect(struct vd_cfg *parent, struct pg_conf *pc)
{
	struct vd_cfg c;
	const cJSON *it;
	bool primary = true;
	int r = vd_cfg_child(parent, "expect", &c);

	if (r <= 0)
		return r;
	r = 0;
	it = vd_cfg_take(&c, "value");
	if (it) {
		char buf[64];
		if (cJSON_IsString(it)) {
			pc->value = vd_xstrdup(it->valuestring);
		} else if (cJSON_IsNumber(it)) {
			if (it->valuedouble ==
			    (double)(long long)it->valuedouble)
				snprintf(buf, sizeof(buf), "%lld",
					 (long long)it->valuedouble);
			else
				snprintf(buf, sizeof(buf), "%.17g",
					 it->valuedouble);
			pc->value = vd_xstrdup(buf);
		} else if (cJSON_IsBool(it)) {
			/* PostgreSQL prints booleans as t / f */
			pc->value = vd_xstrdup(cJSON_IsTrue(it) ? "t" : "f");
		} else if (cJSON_IsObject(it)) {
			/* the text compares as a number where one is asked */
			r = vd_expect_parse(&c, "value", it, &pc->value_ops);
		} else {
			r = vd_cfg_error(
				&c, "value",
				"expected a string (the first column of "
				"the first row, as text), a number, a "
				"boolean or an operator object");
		}
	}
	if (!r && vd_cfg_has(&c, "rows")) {
		pc->has_rows = true;
		r = vd_cfg_int(&c, "rows", 0, 2147483647L, &pc->rows);
	}
	if (!r)
		r = vd_cfg_str(&c, "min_server_version", false,
			       &pc->min_version_src);
	if (!r && pc->min_version_src) {
		pc->min_version = parse_version(pc->min_version_src);
		if (pc->min_version < 0)
			r = vd_cfg_error(&c, "min_server_version",
					 "expected a version like \"15\", "
					 "\"14.2\" or \"9.6\"");
	}
	if (!r && vd_cfg_has(&c, "primary")) {
		r = vd_cfg_bool(&c, "primary", &primary);
		pc->primary = primary ? 1 : 0;
	}
	if (!r)
		r = vd_cfg_finish(&c);
	vd_cfg_release(&c);
	return r;
}

/* The common "tls" object, when given, becomes libpq's ssl* options. */
static void
apply_tls(struct pg_conf *pc, const struct vd_tls_opts *t)
{
	if (conf_get(pc, "sslmode") == NULL)
		conf_set(pc, "sslmode", t->verify ? "verify-full" : "require");
	if (t->ca_file)
		conf_set(pc, "sslrootcert", t->ca_file);
	if (t->cert_file)
		conf_set(pc, "sslcert", t->cert_file);
	if (t->key_file)
		conf_set(pc, "sslkey", t->key_file);
}

static int
pg_parse(struct vd_check *chk, struct vd_cfg *cfg)
{
	struct pg_conf *pc = vd_xcalloc(1, sizeof(*pc));
	char *dsn = NULL;
	const char *h, *u, *d, *p;
	int r;

	chk->conf = pc;
	pc->primary = -1;
	r = vd_cfg_str(cfg, "dsn", true, &dsn);
	if (!r && *dsn == '\0')
		r = vd_cfg_error(cfg, "dsn", "is empty");
	if (!r)
		r = parse_dsn(cfg, pc, dsn);
	vd_free_secret(dsn);
	if (!r)
		r = vd_cfg_str(cfg, "query", false, &pc->query);
	if (!r && pc->query && *pc->query == '\0')
		r = vd_cfg_error(cfg, "query", "is empty");
	if (!r && pc->query == NULL)
		pc->query = vd_xstrdup("SELECT 1");
	if (!r)
		r = parse_expect(cfg, pc);
	if (r)
		return r;
	if (vd_cfg_has(cfg, "tls"))
		apply_tls(pc, &chk->tls);
	if (chk->tls.server_name && pc->host) {
		/* verify this name; connect to the address of the DSN's host */
		conf_set(pc, "host", chk->tls.server_name);
	}
	/* A readable target without any password. */
	h = conf_get(pc, "host");
	u = conf_get(pc, "user");
	d = conf_get(pc, "dbname");
	p = conf_get(pc, "port");
	free(chk->target);
	{
		char *t = vd_xasprintf("postgres://%s%s%s%s%s/%s", u ? u : "",
				       u ? "@" : "",
				       pc->host ? pc->host
				       : h	? h
						: "",
				       p ? ":" : "", p ? p : "", d ? d : "");
		chk->target = vd_mask(t);
		free(t);
	}
	return 0;
}

/* --- running ----------------------------------------------------------- */

static bool
is_sqlstate(const char *s)
{
	int i;
	for (i = 0; i < 5; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return s[5] == ':' && s[6] == ' ';
}

static bool
starts_with_label(const char *line)
{
	static const char *const labels[] = {
		"LOCATION:", "DETAIL:", "HINT:", "CONTEXT:", "QUERY:", NULL};
	int i;
	if (line[0] == '\t' || line[0] == ' ')
		return true;
	for (i = 0; labels[i]; i++)
		if (vd_startswith(line, labels[i]))
			return true;
	return false;
}

struct conn_err {
	char sqlstate[6]; /* "" when libpq failed on its own */
	char *text;	  /* the primary message, one line */
	char *where;	  /* 'server at "h" (a), port p', or NULL */
	char *detail;	  /* the server's DETAIL, or NULL */
};

/*
 * Splits libpq's connection error (verbose: "...failed: FATAL:  28P01:
 * password authentication failed...\nLOCATION: ...") into its parts. The
 * last attempted address is the one reported.
 */
static void
conn_err_parse(const char *msg, struct conn_err *e)
{
	const char *line = msg, *next, *last = NULL, *detail = NULL;
	size_t lastlen = 0, detlen = 0;

	memset(e, 0, sizeof(*e));
	for (; *line; line = next) {
		size_t len = strcspn(line, "\n");
		next = line + len + (line[len] == '\n');
		if (len == 0)
			continue;
		if (vd_startswith(line, "DETAIL:")) {
			detail = line + 7;
			detlen = len - 7;
		} else if (!starts_with_label(line)) {
			last = line;
			lastlen = len;
			detail = NULL;
		}
	}
	if (last == NULL) {
		e->text = vd_xstrdup("unknown error");
		return;
	}
	{
		char *l = vd_xstrndup(last, lastlen), *body = l, *f, *c;
		if (vd_startswith(l, "connection to ") &&
		    (f = strstr(l, " failed: ")) != NULL) {
			e->where = vd_xstrndup(l + 14, (size_t)(f - l - 14));
			body = f + 9;
		}
		/* "FATAL:  28P01: text" (severity words may be translated) */
		c = strstr(body, ":  ");
		if (c && is_sqlstate(c + 3)) {
			memcpy(e->sqlstate, c + 3, 5);
			e->sqlstate[5] = '\0';
			body = c + 10;
		}
		e->text = vd_xstrdup(body);
		free(l);
	}
	if (detail) {
		while (detlen > 0 && *detail == ' ') {
			detail++;
			detlen--;
		}
		e->detail = vd_xstrndup(detail, detlen);
	}
}

static void
conn_err_free(struct conn_err *e)
{
	free(e->text);
	free(e->where);
	free(e->detail);
}

char *
vd_pg_fuzz_conn_error(const char *msg)
{
	struct conn_err e;
	char *r = redact_quoted(msg), *out;

	conn_err_parse(msg, &e);
	out = vd_xasprintf("%s %s %s %s %s", e.sqlstate, e.text,
			   e.where ? e.where : "", e.detail ? e.detail : "", r);
	conn_err_free(&e);
	free(r);
	return out;
}

/* The login failed: the reason says why, as the server or libpq put it. */
static void
finish_conn_error(struct pg_run *run, PGconn *conn)
{
	struct vd_attempt *att = run->att;
	struct conn_err e;
	enum vd_reason kind = VD_REASON_CONNECT;
	const char *what = "connection failed";
	char extra[600] = "";

	conn_err_parse(PQerrorMessage(conn), &e);
	if (e.sqlstate[0]) {
		if (strcmp(e.sqlstate, "28P01") == 0 ||
		    strcmp(e.sqlstate, "28000") == 0) {
			kind = VD_REASON_AUTH;
			what = "authentication failed";
		} else if (strcmp(e.sqlstate, "3D000") == 0) {
			what = "database missing";
		} else if (strcmp(e.sqlstate, "53300") == 0) {
			kind = VD_REASON_UNAVAILABLE;
			what = "too many connections";
		} else if (strcmp(e.sqlstate, "57P03") == 0) {
			kind = VD_REASON_UNAVAILABLE;
			what = "server starting up or not accepting "
			       "connections";
		} else if (strncmp(e.sqlstate, "53", 2) == 0 ||
			   strncmp(e.sqlstate, "57", 2) == 0) {
			kind = VD_REASON_UNAVAILABLE;
			what = "server unavailable";
		}
		snprintf(extra, sizeof(extra), "%s%s%s (SQLSTATE %s)",
			 e.detail ? " (" : "", e.detail ? e.detail : "",
			 e.detail ? ")" : "", e.sqlstate);
	} else {
		if (PQconnectionNeedsPassword(conn)) {
			kind = VD_REASON_AUTH;
			what = "authentication failed";
		} else if (strstr(e.text, strerror(ECONNREFUSED)) ||
			   (e.where &&
			    vd_startswith(e.where, "server on socket") &&
			    strstr(e.text, strerror(ENOENT)))) {
			kind = VD_REASON_REFUSED;
			what = "server down";
		} else if (strstr(e.text, "SSL") ||
			   strstr(e.text, "certificate")) {
			kind = VD_REASON_TLS;
			what = "TLS failed";
		}
		if (e.where)
			snprintf(extra, sizeof(extra), " (%s)", e.where);
	}
	if (run->phase == PG_CONNECTING)
		att->result->timings[VD_PHASE_CONNECT] =
			ev_now(att->loop) - run->t_connect;
	vd_attempt_finish(att, VD_STATUS_ERROR, kind, "%s: %s%s", what, e.text,
			  extra);
	conn_err_free(&e);
}

static void
judge(struct pg_run *run)
{
	struct vd_attempt *att = run->att;
	const struct pg_conf *pc = att->check->conf;
	char shown[400];
	/* masked, then cut: cutting first could leave a secret's start */
	const char *got = run->value_null ? "NULL"
			  : run->value ? vd_mask_brief_to(run->value, 80, shown,
							  sizeof(shown))
				       : NULL;

	if (pc->value) {
		if (run->value == NULL) {
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
					  "no rows, expected value \"%.80s\"",
					  pc->value);
			return;
		}
		if (run->value_null || strcmp(run->value, pc->value) != 0) {
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
					  "value %s%s%s, expected \"%.80s\"",
					  run->value_null ? "" : "\"", got,
					  run->value_null ? "" : "\"",
					  pc->value);
			return;
		}
	}
	if (pc->value_ops) {
		/* no rows: absent; SQL NULL: null; else the text */
		cJSON *v = run->value == NULL ? NULL
			   : run->value_null  ? cJSON_CreateNull()
					      : cJSON_CreateString(run->value);
		char why[400];
		enum vd_match m =
			vd_expect_judge(pc->value_ops, v, why, sizeof(why));
		cJSON_Delete(v);
		if (m != VD_MATCH_YES) {
			vd_attempt_finish_mismatch(
				att, m, VD_REASON_VALUE, "value: %s%s", why,
				run->value == NULL ? " (no rows)" : "");
			return;
		}
	}
	if (pc->has_rows && run->rows != pc->rows) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "%ld row%s, expected %ld", run->rows,
				  run->rows == 1 ? "" : "s", pc->rows);
		return;
	}
	if (run->value)
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "%ld row%s, value %s%s%s", run->rows,
				  run->rows == 1 ? "" : "s",
				  run->value_null ? "" : "\"", got,
				  run->value_null ? "" : "\"");
	else
		vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE,
				  "%ld row%s", run->rows,
				  run->rows == 1 ? "" : "s");
}

static void
query_error(struct pg_run *run, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	enum vd_status st = VD_STATUS_FAIL;
	enum vd_reason kind = VD_REASON_VALUE;

	if (msg == NULL)
		msg = PQresultErrorMessage(res);
	if (state &&
	    (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)) {
		/* the connection or the server went away */
		st = VD_STATUS_ERROR;
		kind = VD_REASON_CONNECT;
	} else if (state && strncmp(state, "53", 2) == 0) {
		st = VD_STATUS_ERROR;
		kind = VD_REASON_UNAVAILABLE;
	}
	vd_attempt_finish(run->att, st, kind, "%s: %.300s%s%s%s",
			  run->phase == PG_RECOVERY
				  ? "pg_is_in_recovery() failed"
				  : "query failed",
			  msg, state ? " (SQLSTATE " : "", state ? state : "",
			  state ? ")" : "");
}

static void
reset_stmt(struct pg_run *run)
{
	run->stmt_done = false;
	run->rows = 0;
	free(run->value);
	run->value = NULL;
	run->value_null = false;
}

static void
take_rows(struct pg_run *run, const PGresult *res)
{
	int n = PQntuples(res), nf = PQnfields(res), i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < nf; j++)
			run->bytes += (size_t)PQgetlength(res, i, j);
	if (run->value == NULL && n > 0 && nf > 0) {
		run->value_null = PQgetisnull(res, 0, 0);
		run->value = vd_xstrdup(
			run->value_null ? "" : PQgetvalue(res, 0, 0));
	}
	run->rows += n;
}

/* Handles one result; returns false once the attempt is finished. */
static bool
on_result(struct vd_pq_ev *c, PGresult *res, void *udata)
{
	struct pg_run *run = udata;
	struct vd_attempt *att = run->att;

	if (!run->got_first) {
		run->got_first = true;
		att->result->timings[VD_PHASE_FIRST_BYTE] =
			ev_now(att->loop) - run->t_query;
	}
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE:
		if (run->stmt_done)
			reset_stmt(run);
		take_rows(run, res);
		break;
	case PGRES_TUPLES_OK:
		if (run->stmt_done)
			reset_stmt(run);
		take_rows(run, res);
		run->stmt_done = true;
		break;
	case PGRES_COMMAND_OK:
		if (run->stmt_done)
			reset_stmt(run);
		run->rows = atol(PQcmdTuples(res));
		run->stmt_done = true;
		break;
	case PGRES_EMPTY_QUERY:
		run->stmt_done = true;
		break;
	case PGRES_FATAL_ERROR:
		query_error(run, res);
		return false;
	case PGRES_NONFATAL_ERROR:
		break;
	default:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				  "unsupported result (%s): COPY and "
				  "replication commands cannot be checked",
				  PQresStatus(PQresultStatus(res)));
		return false;
	}
	if (run->bytes > att->check->max_body) {
		char lim[32];
		snprintf(lim, sizeof(lim), "%zu", att->check->max_body);
		vd_attempt_finish(
			att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
			"result larger than max_body (%s bytes) after "
			"%ld rows",
			lim, run->rows);
		return false;
	}
	return true;
}

static void
send_query(struct pg_run *run, struct vd_pq_ev *c, const char *sql,
	   bool single_row)
{
	run->t_query = ev_now(run->att->loop);
	vd_pq_ev_send(c, sql, single_row);
}

/* The query string has ended (PQgetResult returned NULL). */
static void
query_done(struct vd_pq_ev *c, void *udata)
{
	struct pg_run *run = udata;
	const struct pg_conf *pc = run->att->check->conf;

	if (run->phase == PG_RECOVERY) {
		bool rec = run->value && strcmp(run->value, "t") == 0;
		if (run->value == NULL || run->value_null) {
			vd_attempt_finish(
				run->att, VD_STATUS_ERROR, VD_REASON_PROTOCOL,
				"pg_is_in_recovery() returned nothing");
			return;
		}
		vd_result_fact_bool(run->att->result, "in_recovery", rec);
		if (rec && pc->primary == 1) {
			vd_attempt_finish(run->att, VD_STATUS_FAIL,
					  VD_REASON_VALUE,
					  "server is a standby (in recovery), "
					  "expected a primary");
			return;
		}
		if (!rec && pc->primary == 0) {
			vd_attempt_finish(run->att, VD_STATUS_FAIL,
					  VD_REASON_VALUE,
					  "server is a primary, expected a "
					  "standby");
			return;
		}
		reset_stmt(run);
		run->bytes = 0;
		run->got_first = false;
		run->phase = PG_QUERY;
		send_query(run, c, pc->query, true);
		return;
	}
	run->phase = PG_DONE;
	judge(run);
}

static void
connected(struct vd_pq_ev *c, void *udata)
{
	struct pg_run *run = udata;
	struct vd_attempt *att = run->att;
	const struct pg_conf *pc = att->check->conf;
	PGconn *conn = vd_pq_ev_conn(c);
	const char *ver = PQparameterStatus(conn, "server_version");
	int num = PQserverVersion(conn);

	att->result->timings[VD_PHASE_CONNECT] =
		ev_now(att->loop) - run->t_connect;
	if (ver)
		vd_result_fact_str(att->result, "server_version", ver);
	if (pc->min_version > 0 && num < pc->min_version) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_VALUE,
				  "server version %s, expected at least %s",
				  ver ? ver : "?", pc->min_version_src);
		return;
	}
	if (pc->primary >= 0) {
		run->phase = PG_RECOVERY;
		send_query(run, c, "SELECT pg_is_in_recovery()", false);
	} else {
		run->phase = PG_QUERY;
		send_query(run, c, pc->query, true);
	}
}

/* The adapter's failures, worded as the check's reasons always were. */
static void
failed(struct vd_pq_ev *c, enum vd_pq_ev_err err, void *udata)
{
	struct pg_run *run = udata;
	struct vd_attempt *att = run->att;
	struct conn_err e;

	switch (err) {
	case VD_PQ_EV_OOM:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "libpq: out of memory");
		break;
	case VD_PQ_EV_CONNECT:
		finish_conn_error(run, vd_pq_ev_conn(c));
		break;
	case VD_PQ_EV_NONBLOCK:
		att->result->timings[VD_PHASE_CONNECT] =
			ev_now(att->loop) - run->t_connect;
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				  "could not make the connection non-blocking");
		break;
	case VD_PQ_EV_LOST:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "connection lost");
		break;
	case VD_PQ_EV_SEND:
		conn_err_parse(PQerrorMessage(vd_pq_ev_conn(c)), &e);
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "could not send the query: %s", e.text);
		conn_err_free(&e);
		break;
	case VD_PQ_EV_FLUSH:
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "connection lost sending the query");
		break;
	case VD_PQ_EV_CONSUME:
		conn_err_parse(PQerrorMessage(vd_pq_ev_conn(c)), &e);
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_CONNECT,
				  "connection lost during the query: %s",
				  e.text);
		conn_err_free(&e);
		break;
	}
}

static bool
live(void *udata)
{
	const struct pg_run *run = udata;
	return !run->att->finished;
}

static const struct vd_pq_ev_cbs pg_cbs = {
	.live = live,
	.connected = connected,
	.result = on_result,
	.query_done = query_done,
	.failed = failed,
};

/* Connects with the DSN's options plus hostaddr (may be NULL). */
static void
start_connect(struct pg_run *run, const char *hostaddr)
{
	struct vd_attempt *att = run->att;
	const struct pg_conf *pc = att->check->conf;
	const char **keys = vd_xcalloc(pc->nkv + 4, sizeof(char *));
	const char **vals = vd_xcalloc(pc->nkv + 4, sizeof(char *));
	char *hosts = NULL;
	size_t i, n = 0;

	for (i = 0; i < pc->nkv; i++) {
		if (hostaddr && strcmp(pc->keys[i], "host") == 0)
			continue;
		keys[n] = pc->keys[i];
		vals[n++] = pc->vals[i];
	}
	if (hostaddr) {
		/* one host name per address, as libpq wants */
		const char *h = conf_get(pc, "host");
		struct vd_buf b;
		size_t k, naddr = 1;
		for (k = 0; hostaddr[k]; k++)
			naddr += hostaddr[k] == ',';
		if (h == NULL)
			h = pc->host;
		vd_buf_init(&b, 0);
		for (k = 0; k < naddr; k++)
			vd_buf_printf(&b, "%s%s", k ? "," : "", h);
		hosts = vd_buf_steal(&b);
		keys[n] = "host";
		vals[n++] = hosts;
		keys[n] = "hostaddr";
		vals[n++] = hostaddr;
	}
	if (conf_get(pc, "application_name") == NULL) {
		keys[n] = "fallback_application_name";
		vals[n++] = "verdict";
	}
	keys[n] = NULL;
	vals[n] = NULL;

	run->phase = PG_CONNECTING;
	run->t_connect = ev_now(att->loop);
	run->pq = vd_pq_ev_connect(att->prober, keys, vals, &pg_cbs, run);
	free(keys);
	free(vals);
	vd_free_secret(hosts);
}

static void
resolved_cb(struct addrinfo *ai, int gai_err, void *udata)
{
	struct pg_run *run = udata;
	struct vd_attempt *att = run->att;
	const struct pg_conf *pc = att->check->conf;
	const struct addrinfo *a;
	struct vd_buf b;
	int n = 0;

	run->res = NULL;
	att->result->timings[VD_PHASE_RESOLVE] = ev_now(att->loop) - att->start;
	if (ai == NULL) {
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_DNS,
				  "could not resolve %s: %s", pc->host,
				  gai_err == EAI_SYSTEM
					  ? strerror(errno)
					  : gai_strerror(gai_err));
		return;
	}
	vd_buf_init(&b, 0);
	for (a = ai; a && n < PG_MAX_ADDRS; a = a->ai_next) {
		char h[INET6_ADDRSTRLEN];
		if (getnameinfo(a->ai_addr, a->ai_addrlen, h, sizeof(h), NULL,
				0, NI_NUMERICHOST) != 0)
			continue;
		vd_buf_printf(&b, "%s%s", n ? "," : "", h);
		n++;
	}
	freeaddrinfo(ai);
	if (n == 0) {
		vd_buf_free(&b);
		vd_attempt_finish(att, VD_STATUS_ERROR, VD_REASON_DNS,
				  "could not resolve %s: no usable address",
				  pc->host);
		return;
	}
	start_connect(run, b.data);
	vd_buf_free(&b);
}

static void
pg_start(struct vd_attempt *att)
{
	const struct pg_conf *pc = att->check->conf;
	struct pg_run *run = vd_xcalloc(1, sizeof(*run));

	run->att = att;
	att->data = run;
	if (pc->host) {
		run->phase = PG_RESOLVING;
		run->res = vd_resolve_start(att->prober, pc->host, pc->port,
					    SOCK_STREAM, resolved_cb, run);
	} else {
		start_connect(run, NULL);
	}
}

static void
pg_cancel(struct vd_attempt *att)
{
	struct pg_run *run = att->data;
	if (run == NULL)
		return;
	vd_resolve_cancel(run->res);
	/* a query still running is cancelled on the server */
	vd_pq_ev_free(run->pq);
	free(run->value);
	free(run);
}

static const struct vd_check_key postgres_keys[] = {
	{"dsn", VD_KEY_REQUIRED}, {"query", 0}, {"expect", 0},
	{"max_body", 0},	  {NULL, 0},
};

const struct vd_check_type vd_check_postgres = {
	.name = "postgres",
	.parse = pg_parse,
	.start = pg_start,
	.cancel = pg_cancel,
	.free = pg_free,
	.flags = VD_TYPE_TLS,
	.keys = postgres_keys,
};
