/*
 * check_deployer.c - unit tests of the deployer's pieces that need no
 * servers: name rules, placeholder filling, config errors naming their
 * place, the state directory (atomic state file, torn history lines, the
 * lock and its owner's details, a torn line cut, a read-only directory
 * refused), GitHub's status mapping through the notifier vtable, gate
 * suites loaded with the phase's ${VERSION}, hook programs looked up,
 * refused input escaped, and the stream masker fed in every piece size.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../deployer/dep_int.h"
#include "unit.h"

START_TEST(names)
{
	static const char *const good[] = {
		"v1",	      "1.2.3",	       "v1.2.3-rc.1", "sha-abc123",
		"2024_11_26", "1.0.0+build.5", "a",	      NULL};
	static const char *const bad[] = {"",	  "-rf",  ".hidden", "..",
					  "a..b", "../x", "a/b",     "a b",
					  "a\tb", "v1\n", "a;b",     "$(id)",
					  "a:b",  "\x01", "é",	     NULL};
	char longname[200];
	size_t i;
	for (i = 0; good[i]; i++)
		ck_assert_msg(vd_dep_name_ok(good[i]), "%s should be ok",
			      good[i]);
	for (i = 0; bad[i]; i++)
		ck_assert_msg(!vd_dep_name_ok(bad[i]), "'%s' should be refused",
			      bad[i]);
	ck_assert(!vd_dep_name_ok(NULL));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert(!vd_dep_name_ok(longname));
	longname[128] = '\0';
	ck_assert(vd_dep_name_ok(longname));
}
END_TEST

START_TEST(subst)
{
	struct vd_dep_hook_vars v = {"1.3", "1.2", "id-1", "staging"};
	char *s =
		vd_dep_subst("x${VERSION}:${PREVIOUS_VERSION}/${DEPLOYMENT_ID}"
			     "@${ENVIRONMENT} ${OTHER} $VERSION",
			     &v);
	ck_assert_str_eq(s, "x1.3:1.2/id-1@staging ${OTHER} $VERSION");
	free(s);
	v.previous_version = NULL;
	s = vd_dep_subst("[${PREVIOUS_VERSION}]", &v);
	ck_assert_str_eq(s, "[]");
	free(s);
}
END_TEST

static char dir[64];

static void
setup_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/verdict-unit-dep.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *
write_cfg(const char *name, const char *text)
{
	char *p = vd_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static const char base_hooks[] =
	"\"hooks\": { \"deploy\": { \"argv\": [\"true\"] } }, "
	"\"health\": { \"checks\": [ { \"name\": \"a\", \"type\": \"exec\", "
	"\"argv\": [\"true\"] } ] }";

START_TEST(config_errors)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"{ %s }", "c.json: environment: required"},
		{"{ \"environment\": \"a/b\", %s }",
		 "c.json: environment: invalid name"},
		{"{ \"environment\": \"s\", \"enviroment\": 1, %s }",
		 "c.json: enviroment: unknown key"},
		{"{ \"environment\": \"s\", \"on_inconclusive\": \"maybe\", %s "
		 "}",
		 "c.json: on_inconclusive: expected \"hold\" or \"rollback\""},
		{"{ \"environment\": \"s\", \"notify\": { \"pager\": {} }, %s "
		 "}",
		 "c.json: notify.pager: unknown key (notifiers: telegram"},
		{"{ \"environment\": \"s\", \"notify\": { \"telegram\": { "
		 "\"chat_id\": 1, "
		 "\"token_env\": \"VD_UNIT_NO_SUCH_VAR\" } }, %s }",
		 "c.json: notify.telegram.token_env: environment variable "
		 "VD_UNIT_NO_SUCH_VAR"},
		{"{ \"environment\": \"s\", \"notify\": { \"webhook\": [ { "
		 "\"url\": "
		 "\"http://x/\" }, { \"url\": \"file:///etc\" } ] }, %s }",
		 "c.json: notify.webhook[1].url: expected an http(s) URL"},
		{"{ \"environment\": \"s\", \"registry\": { \"url\": "
		 "\"ghcr.io\", "
		 "\"images\": [\"a\"] }, %s }",
		 "c.json: registry.url: expected an http:// or https:// URL"},
		{"{ \"environment\": \"s\", \"state_dir\": "
		 "\"${VD_UNIT_NO_SUCH_VAR}\", %s }",
		 "c.json: state_dir: environment variable VD_UNIT_NO_SUCH_VAR "
		 "is not set"},
		{"{ \"environment\": \"s\", \"hooks\": { \"deploy\": { "
		 "\"argv\": [\"x\"], "
		 "\"timeout\": \"soon\" } } }",
		 "c.json: hooks.deploy.timeout: invalid duration"},
		{"{ \"environment\": \"s\", \"hooks\": { \"promote\": { "
		 "\"argv\": [\"x\"] } } }",
		 "c.json: hooks.deploy: required"},
		{"{ \"environment\": \"s\", \"hooks\": { \"deploy\": { "
		 "\"argv\": [\"x\"] } } }",
		 "c.json: health: required"},
		{"{ \"environment\": \"s\", \"hooks\": { \"deploy\": { "
		 "\"argv\": [\"x\"] } }, "
		 "\"health\": \"missing.json\" }",
		 "missing.json: No such file"},
		{"{ \"environment\": \"s\", %s, \"smoke\": { \"checks\": [ { "
		 "\"name\": \"a\", "
		 "\"type\": \"nope\" } ] } }",
		 "c.json: smoke: checks[0].type: unknown check type"},
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vd_dep_config *cfg = NULL;
		char text[2048], err[1200], *p;
		int r;
		const char *at = strstr(cases[i].text, "%s");
		if (at)
			snprintf(text, sizeof(text), "%.*s%s%s",
				 (int)(at - cases[i].text), cases[i].text,
				 base_hooks, at + 2);
		else
			snprintf(text, sizeof(text), "%s", cases[i].text);
		p = write_cfg("c.json", text);
		r = vd_dep_config_load(p, &cfg, err, sizeof(err));
		ck_assert_msg(r < 0, "case %zu loaded", i);
		ck_assert_ptr_null(cfg);
		ck_assert_msg(strstr(err, cases[i].want) != NULL,
			      "case %zu: got \"%s\", want \"%s\"", i, err,
			      cases[i].want);
		free(p);
	}
}
END_TEST

START_TEST(config_defaults)
{
	struct vd_dep_config *cfg = NULL;
	char text[2048], err[1200], *p, *want;
	snprintf(text, sizeof(text),
		 "{ // comments are fine\n \"environment\": \"staging\", "
		 "\"hooks\": { \"deploy\": { \"argv\": [\"./d.sh\", "
		 "\"${VERSION}\", "
		 "\"${PREVIOUS_VERSION:-none}\"] } }, %s }",
		 strstr(base_hooks, "\"health\""));
	p = write_cfg("ok.json", text);
	ck_assert_msg(vd_dep_config_load(p, &cfg, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_str_eq(cfg->environment, "staging");
	want = vd_xasprintf("%s/.verdict", dir);
	ck_assert_str_eq(cfg->state_dir, want);
	free(want);
	/* placeholders survive the environment interpolation */
	ck_assert_str_eq(cfg->deploy->argv[1], "${VERSION}");
	/* a default given in the file is taken from the file */
	ck_assert_str_eq(cfg->deploy->argv[2], "none");
	ck_assert_str_eq(cfg->deploy->cwd, dir);
	ck_assert(cfg->deploy->timeout == 600);
	ck_assert_ptr_null(cfg->rollback);
	ck_assert_ptr_null(cfg->smoke);
	ck_assert_uint_eq(cfg->health->nchecks, 1);
	ck_assert(!cfg->rollback_on_inconclusive);
	vd_dep_config_free(cfg);
	free(p);
}
END_TEST

START_TEST(config_suite_ref)
{
	struct vd_dep_config *cfg = NULL;
	char err[1200], *p, *sp;
	sp = write_cfg(
		"staging.json",
		"{ \"checks\": ["
		"{ \"name\": \"up\", \"type\": \"exec\", \"argv\": "
		"[\"true\"], \"stage\": \"health\" },"
		"{ \"name\": \"db\", \"type\": \"exec\", \"argv\": "
		"[\"true\"], \"stage\": \"health\" },"
		"{ \"name\": \"home\", \"type\": \"exec\", \"argv\": "
		"[\"true\"], \"stage\": \"smoke\", \"tags\": [\"web\"] },"
		"{ \"name\": \"api\", \"type\": \"exec\", \"argv\": "
		"[\"true\"], \"stage\": \"smoke\" } ] }");
	p = write_cfg(
		"ref.json",
		"{ \"environment\": \"s\", \"hooks\": { \"deploy\": { "
		"\"argv\": [\"x\"] } }, \"health\": { \"suite\": "
		"\"staging.json\", \"only\": [\"health\"] }, \"smoke\": { "
		"\"suite\": \"staging.json\", \"only\": [\"web\", \"api\"] "
		"} }");
	ck_assert_msg(vd_dep_config_load(p, &cfg, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_uint_eq(cfg->health->nchecks, 2);
	ck_assert_str_eq(cfg->health->checks[1]->name, "db");
	ck_assert_uint_eq(cfg->smoke->nchecks, 2);
	ck_assert_str_eq(cfg->smoke->checks[0]->name, "home");
	vd_dep_config_free(cfg);
	free(p);
	p = write_cfg("ref2.json",
		      "{ \"environment\": \"s\", \"hooks\": { \"deploy\": { "
		      "\"argv\": [\"x\"] } }, \"health\": { \"suite\": "
		      "\"staging.json\", \"only\": [\"nothing\"] } }");
	ck_assert(vd_dep_config_load(p, &cfg, err, sizeof(err)) < 0);
	ck_assert_msg(strstr(err, "ref2.json: health.only: no check of "
				  "staging.json") != NULL,
		      "%s", err);
	free(p);
	free(sp);
}
END_TEST

static void
count_cb(const cJSON *line, void *udata)
{
	int *n = udata;
	(void)line;
	(*n)++;
}

START_TEST(state_files)
{
	struct vd_dep_state st, other;
	char err[1200], owner[1024], *p;
	cJSON *line, *info;
	struct stat sb;
	int n = 0, fd;

	p = vd_xasprintf("%s/deep/state", dir);
	ck_assert_int_eq(vd_dep_state_open(&st, p, "staging", err, sizeof(err)),
			 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(vd_dep_state_load(&st, err, sizeof(err)), 0);
	ck_assert_str_eq(vd_dep_jstr(st.state, "environment"), "staging");

	/* the lock, and a second taker refused with the owner's details */
	info = cJSON_CreateObject();
	vd_dep_jset_str(info, "deployment_id", "d-1");
	vd_dep_jset_str(info, "version", "1.3");
	vd_dep_jset_str(info, "command", "deploy");
	vd_dep_jset_num(info, "pid", 4242);
	ck_assert_int_eq(
		vd_dep_lock(&st, info, owner, sizeof(owner), err, sizeof(err)),
		0);
	ck_assert_int_eq(
		vd_dep_state_open(&other, p, "staging", err, sizeof(err)), 0);
	ck_assert_int_eq(vd_dep_lock(&other, info, owner, sizeof(owner), err,
				     sizeof(err)),
			 1);
	ck_assert_msg(
		strstr(owner,
		       "deployment d-1 of version 1.3 (deploy, pid 4242") !=
			NULL,
		"%s", owner);
	vd_dep_state_close(&other);
	cJSON_Delete(info);

	/* atomic state file, 0600 */
	vd_dep_jset_str(st.state, "marker", "one");
	ck_assert_int_eq(vd_dep_state_save(&st, err, sizeof(err)), 0);
	free(p);
	p = vd_xasprintf("%s/deep/state/staging.state.json", dir);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(vd_dep_state_load(&st, err, sizeof(err)), 0);
	ck_assert_str_eq(vd_dep_jstr(st.state, "marker"), "one");
	free(p);

	/* a torn history line (a crash mid-write) swallows nothing */
	line = cJSON_CreateObject();
	vd_dep_jset_str(line, "event", "a");
	ck_assert_int_eq(vd_dep_history_append(&st, line, err, sizeof(err)), 0);
	cJSON_Delete(line);
	p = vd_xasprintf("%s/deep/state/staging.history.jsonl", dir);
	fd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"event\":\"torn", 14), 14);
	close(fd);
	line = cJSON_CreateObject();
	vd_dep_jset_str(line, "event", "b");
	ck_assert_int_eq(vd_dep_history_append(&st, line, err, sizeof(err)), 0);
	cJSON_Delete(line);
	ck_assert_int_eq(vd_dep_history_each(&st, count_cb, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	/* the lock holder cuts a torn last line; whole lines stay */
	ck_assert_int_eq(vd_dep_history_repair(&st, err, sizeof(err)), 0);
	fd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"event\":\"to", 12), 12);
	close(fd);
	ck_assert_int_eq(vd_dep_history_repair(&st, err, sizeof(err)), 12);
	n = 0;
	ck_assert_int_eq(vd_dep_history_each(&st, count_cb, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(stat(p, &sb), 0);
	{
		char last;
		fd = open(p, O_RDONLY);
		ck_assert_int_eq(pread(fd, &last, 1, sb.st_size - 1), 1);
		close(fd);
		ck_assert_int_eq(last, '\n');
	}
	free(p);

	/* the state file gone: known-good comes back from the history */
	line = cJSON_CreateObject();
	vd_dep_jset_str(line, "event", "result");
	info = cJSON_CreateObject();
	vd_dep_jset_str(info, "version", "1.2");
	vd_dep_jset(line, "known_good", info);
	ck_assert_int_eq(vd_dep_history_append(&st, line, err, sizeof(err)), 0);
	cJSON_Delete(line);
	p = vd_xasprintf("%s/deep/state/staging.state.json", dir);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	ck_assert_int_eq(vd_dep_state_load(&st, err, sizeof(err)), 0);
	ck_assert_str_eq(
		vd_dep_jstr(cJSON_GetObjectItem(st.state, "known_good"),
			    "version"),
		"1.2");
	ck_assert_int_eq(vd_dep_state_writable(&st, err, sizeof(err)), 0);
	vd_dep_state_close(&st);

	/* a read-only directory is refused and keeps its mode */
	p = vd_xasprintf("%s/deep/state", dir);
	ck_assert_int_eq(chmod(p, 0555), 0);
	ck_assert_int_eq(vd_dep_state_open(&st, p, "staging", err, sizeof(err)),
			 0);
	ck_assert_int_lt(vd_dep_state_writable(&st, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "not writable (mode 0555)") != NULL, "%s",
		      err);
	vd_dep_state_close(&st);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0555);
	ck_assert_int_eq(chmod(p, 0700), 0);
	free(p);
}
END_TEST

START_TEST(escape)
{
	char *e = vd_dep_escape("v1\n::error::x\x1b[31m\t\"q\\", 0, true);
	ck_assert_str_eq(e, "v1\\n::error::x\\x1b[31m\\t\\\"q\\\\");
	free(e);
	e = vd_dep_escape("a \"b\"\r", 0, false);
	ck_assert_str_eq(e, "a \"b\"\\r");
	free(e);
	e = vd_dep_escape("abcdef", 3, true);
	ck_assert_str_eq(e, "abc...");
	free(e);
}
END_TEST

/* feeds s to a stream masker in pieces of n bytes */
static char *
mask_in_pieces(const char *s, size_t n)
{
	struct vd_mask_stream ms;
	struct vd_buf out;
	size_t len = strlen(s), i;
	vd_mask_stream_init(&ms);
	vd_buf_init(&out, 0);
	for (i = 0; i < len; i += n)
		vd_mask_stream_feed(&ms, s + i, len - i < n ? len - i : n,
				    &out);
	vd_mask_stream_end(&ms, &out);
	vd_mask_stream_free(&ms);
	if (out.data == NULL)
		vd_buf_puts(&out, "");
	return vd_buf_steal(&out);
}

START_TEST(mask_stream)
{
	static const char text[] =
		"a=unit-secret-one; b=unit-secret-one-longer; c=unit-sec";
	size_t n;
	vd_secret_add("unit-secret-one");
	vd_secret_add("unit-secret-one-longer");
	/* whatever the pieces, the same as masking the whole */
	for (n = 1; n <= sizeof(text); n++) {
		char *m = mask_in_pieces(text, n);
		ck_assert_msg(strcmp(m, "a=***; b=***; c=unit-sec") == 0,
			      "pieces of %zu: %s", n, m);
		free(m);
	}
	vd_secret_clear();
}
END_TEST

START_TEST(gate_vars)
{
	struct vd_dep_config *cfg = NULL;
	struct vd_dep_hook_vars v = {"1.4.2", "1.4.1", "d-1", "staging"};
	struct vd_suite *s = NULL;
	char err[1200], *p;

	setenv("VERSION", "from-the-environment", 1);
	p = write_cfg("g.json",
		      "{ \"environment\": \"staging\", \"hooks\": { "
		      "\"deploy\": { \"argv\": [\"true\"] } }, \"health\": "
		      "{ \"checks\": [ { \"name\": \"v\", \"type\": "
		      "\"exec\", \"argv\": [\"echo\", \"${VERSION}\", "
		      "\"${PREVIOUS_VERSION}\", \"${DEPLOYMENT_ID}\", "
		      "\"${ENVIRONMENT}\", \"${NOT_A_PLACEHOLDER:-x}\"] } "
		      "] } }");
	ck_assert_msg(vd_dep_config_load(p, &cfg, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_eq(
		vd_dep_suite_load(cfg->health_src, &v, &s, err, sizeof(err)),
		0);
	ck_assert_ptr_nonnull(strstr(s->checks[0]->target, "echo"));
	vd_suite_free(s);
	{
		/* the phase's values win over an exported VERSION */
		struct vd_suite_load_opts o = {0};
		const char *vars[] = {"VERSION=1.4.2", NULL};
		char *r;
		o.vars = vars;
		r = vd_interpolate_vars("${VERSION}/${VERSION:-d}", NULL, vars,
					err, sizeof(err));
		ck_assert_str_eq(r, "1.4.2/1.4.2");
		free(r);
		r = vd_interpolate_vars("${VERSION}", NULL, NULL, err,
					sizeof(err));
		ck_assert_str_eq(r, "from-the-environment");
		free(r);
		(void)o;
	}
	vd_dep_config_free(cfg);
	unsetenv("VERSION");
	free(p);
}
END_TEST

START_TEST(check_hooks)
{
	struct vd_dep_config *cfg = NULL;
	char err[1200], *p;

	p = write_cfg("h.json",
		      "{ \"environment\": \"s\", \"hooks\": { \"deploy\": "
		      "{ \"argv\": [\"sh\"] }, \"promote\": { \"argv\": "
		      "[\"./nope.sh\"] } }, \"health\": { \"checks\": [ { "
		      "\"name\": \"a\", \"type\": \"exec\", \"argv\": "
		      "[\"true\"] } ] } }");
	ck_assert_msg(vd_dep_config_load(p, &cfg, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_int_lt(vd_dep_config_check_hooks(cfg, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "h.json: hooks.promote.argv[0]: program "
				  "\"./nope.sh\" not found") != NULL,
		      "%s", err);
	vd_dep_config_free(cfg);
	free(p);
}
END_TEST

START_TEST(github_states)
{
	static const struct {
		const char *what;
		const char *state;
	} cases[] = {
		{"promoted", "success"},      {"rollback_done", "success"},
		{"rolled_back", "failure"},   {"refused", "failure"},
		{"rollback_failed", "error"}, {"inconclusive", "error"},
		{"interrupted", "error"},
	};
	struct vd_cfg c;
	struct vd_cfg_err e = {.set = false};
	cJSON *obj = cJSON_Parse("{ \"repository\": \"acme/app\", "
				 "\"token_env\": \"VD_UNIT_GH\" }");
	cJSON *dep =
		cJSON_Parse("{ \"deployment_id\": \"d-1\", \"environment\": "
			    "\"staging\", \"version\": \"1.3\" }");
	void *conf = NULL;
	size_t i;

	setenv("VD_UNIT_GH", "ghp_unit_token", 1);
	vd_cfg_init(&c, obj, "t.json", "notify.github", &e);
	ck_assert_int_eq(vd_notifier_github.parse(&c, &conf), 0);
	vd_cfg_release(&c);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vd_notify_event ev = {.what = cases[i].what,
					     .dep = dep,
					     .exit_code = 0,
					     .data = "17",
					     .replaced_data = "9"};
		struct vd_notify_req req = {0};
		cJSON *b;
		ck_assert_int_eq(vd_notifier_github.build(conf, &ev, 0, &req),
				 1);
		ck_assert_str_eq(req.url,
				 "https://api.github.com/repos/acme/app/"
				 "deployments/17/statuses");
		b = cJSON_Parse(req.body);
		ck_assert_str_eq(vd_dep_jstr(b, "state"), cases[i].state);
		cJSON_Delete(b);
		vd_notify_req_clear(&req);
		/* only a success retires the replaced deployment */
		ck_assert_int_eq(vd_notifier_github.build(conf, &ev, 1, &req),
				 strcmp(cases[i].state, "success") == 0);
		vd_notify_req_clear(&req);
	}
	{
		/* no deployment id (its creation failed): no status */
		struct vd_notify_event ev = {.what = "promoted", .dep = dep};
		struct vd_notify_req req = {0};
		ck_assert_int_eq(vd_notifier_github.build(conf, &ev, 0, &req),
				 0);
		vd_notify_req_clear(&req);
	}
	vd_notifier_github.free(conf);
	cJSON_Delete(obj);
	cJSON_Delete(dep);
	unsetenv("VD_UNIT_GH");
}
END_TEST

Suite *
deployer_suite(void)
{
	Suite *s = suite_create("deployer");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, names);
	tcase_add_test(tc, subst);
	tcase_add_test(tc, escape);
	tcase_add_test(tc, mask_stream);
	tcase_add_test(tc, github_states);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, config_defaults);
	tcase_add_test(tc, config_suite_ref);
	tcase_add_test(tc, state_files);
	tcase_add_test(tc, gate_vars);
	tcase_add_test(tc, check_hooks);
	suite_add_tcase(s, tc);
	return s;
}
