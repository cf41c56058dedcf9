/* check_exec.c - the exec check on a loop that is not libev's default one,
 * where children are watched through a pidfd instead of ev_child (verdict
 * itself runs on the default loop; the integration tests cover that). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../probe/probe.h"
#include "../../suites/suite.h"
#include "unit.h"

struct outcome {
	struct vd_result res;
	struct ev_loop *loop;
	bool done;
};

static void
probe_done(const struct vd_check *chk, const struct vd_result *res, void *udata)
{
	struct outcome *o = udata;
	(void)chk;
	vd_result_copy(&o->res, res);
	o->done = true;
	ev_break(o->loop, EVBREAK_ALL);
}

/* Runs the first check of a suite given as JSON on a fresh loop; the
 * prober (and with it every child left) is gone when this returns. */
static void
run_on_new_loop(const char *json, struct outcome *o)
{
	struct vd_suite *s = NULL;
	struct vd_prober *p;
	char err[512];
	int r;

	memset(o, 0, sizeof(*o));
	vd_result_init(&o->res);
	r = vd_suite_parse(json, strlen(json), "t.json", NULL, &s, err,
			   sizeof(err));
	ck_assert_msg(r == 0, "suite: %s", err);
	o->loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(o->loop);
	ck_assert(!ev_is_default_loop(o->loop));
	p = vd_prober_new(o->loop, NULL);
	vd_probe_start(p, s->checks[0], probe_done, o);
	ev_run(o->loop, 0);
	vd_prober_free(p);
	ev_loop_destroy(o->loop);
	vd_suite_free(s);
	ck_assert(o->done);
}

static pid_t
read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	return (pid_t)pid;
}

/* True once pid is gone or a zombie (a reparented grandchild is reaped by
 * init, not by us), within two seconds. */
static bool
gone(pid_t pid)
{
	char path[64], buf[256], *rp;
	int i;
	for (i = 0; i < 200; i++) {
		FILE *f;
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
		f = fopen(path, "r");
		if (f) {
			rp = fgets(buf, sizeof(buf), f);
			fclose(f);
			rp = rp ? strrchr(buf, ')') : NULL;
			if (rp && rp[1] == ' ' && rp[2] == 'Z')
				return true;
		}
		usleep(10000);
	}
	return false;
}

START_TEST(test_exit_code)
{
	struct outcome o;
	const struct vd_fact *f;
	run_on_new_loop("{\"checks\": [{\"name\": \"x\", \"type\": \"exec\", "
			"\"argv\": [\"sh\", \"-c\", \"echo bad thing >&2; "
			"exit 3\"]}]}",
			&o);
	ck_assert_int_eq(o.res.status, VD_STATUS_FAIL);
	ck_assert_str_eq(o.res.reason, "exit 3, expected 0: bad thing");
	f = vd_result_fact(&o.res, "exit_code");
	ck_assert_ptr_nonnull(f);
	ck_assert_double_eq(f->num, 3);
	vd_result_clear(&o.res);
}
END_TEST

START_TEST(test_output_match)
{
	struct outcome o;
	run_on_new_loop("{\"checks\": [{\"name\": \"x\", \"type\": \"exec\", "
			"\"argv\": [\"printf\", \"a\\nready: yes\\n\"], "
			"\"expect\": {\"output_regex\": \"^ready: (yes|ok)$\", "
			"\"output_contains\": \"ready\"}}]}",
			&o);
	ck_assert_int_eq(o.res.status, VD_STATUS_PASS);
	vd_result_clear(&o.res);
}
END_TEST

START_TEST(test_timeout_kills_group)
{
	char dir[] = "/tmp/vd-exec-XXXXXX", json[1024], p1[300], p2[300];
	struct outcome o;
	pid_t leader, grandchild;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/leader", dir);
	snprintf(p2, sizeof(p2), "%s/grandchild", dir);
	/* The grandchild ignores SIGTERM and holds the output pipe open.
	 * ("$$$$" is the shell's "$$": the suite loader reads "$$" as "$".) */
	snprintf(json, sizeof(json),
		 "{\"checks\": [{\"name\": \"x\", \"type\": \"exec\", "
		 "\"timeout\": \"500ms\", \"argv\": [\"sh\", \"-c\", "
		 "\"echo $$$$ > %s; (trap '' TERM; sleep 60) & echo $! > %s; "
		 "wait\"]}]}",
		 p1, p2);
	run_on_new_loop(json, &o);
	ck_assert_int_eq(o.res.status, VD_STATUS_ERROR);
	ck_assert_int_eq(o.res.reason_kind, VD_REASON_TIMEOUT);
	ck_assert_msg(strstr(o.res.reason, "process group killed") != NULL,
		      "reason: %s", o.res.reason);
	leader = read_pid(p1);
	grandchild = read_pid(p2);
	ck_assert(leader > 1 && grandchild > 1);
	/* The leader is reaped (not even a zombie); the grandchild, which
	 * ignored SIGTERM, got SIGKILL. */
	ck_assert(kill(leader, 0) < 0 && errno == ESRCH);
	ck_assert_msg(gone(grandchild), "grandchild %ld still running",
		      (long)grandchild);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
	vd_result_clear(&o.res);
}
END_TEST

Suite *
exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("pidfd");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_exit_code);
	tcase_add_test(tc, test_output_match);
	tcase_add_test(tc, test_timeout_kills_group);
	suite_add_tcase(s, tc);
	return s;
}
