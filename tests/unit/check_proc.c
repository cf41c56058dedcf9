/* check_proc.c - the child-process supervisor (lib/proc.c) on its own
 * loops: capped output, streams kept apart or merged, exit by signal, a
 * deadline that kills the whole group (a grandchild ignoring SIGTERM
 * included), the start barrier, environments, the program lookup, and
 * many children in a row leaving no descriptor or child behind. Most
 * tests use a loop of their own (pidfd path); one uses libev's default
 * loop (ev_child path, as verdict does). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/proc.h"
#include "unit.h"

struct run {
	struct ev_loop *loop;
	struct vd_procs *ps;
	struct vd_proc *proc;
	bool done;
	struct vd_proc_result res;
	char out[4096]; /* a copy of res.output */
	size_t out_len;
	bool truncated;
	size_t stream_bytes[2]; /* seen by on_output, per stream */
	ev_timer guard;
};

static void
on_output(void *udata, enum vd_proc_stream s, const char *p, size_t n)
{
	struct run *r = udata;
	(void)p;
	r->stream_bytes[s] += n;
}

static void
on_done(void *udata, const struct vd_proc_result *res)
{
	struct run *r = udata;
	r->done = true;
	r->res = *res;
	r->out_len = res->output->len < sizeof(r->out) - 1 ? res->output->len
							   : sizeof(r->out) - 1;
	memcpy(r->out, res->output->data ? res->output->data : "", r->out_len);
	r->out[r->out_len] = '\0';
	r->truncated = res->output->truncated;
	r->res.output = NULL;
	ev_break(r->loop, EVBREAK_ALL);
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
run_init(struct run *r, struct ev_loop *loop)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop ? loop : ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(r->loop);
	r->ps = vd_procs_new(r->loop);
	ev_timer_init(&r->guard, guard_cb, 20., 0.);
}

static void
spec_init(struct vd_proc_spec *spec, struct run *r, char *const *argv)
{
	memset(spec, 0, sizeof(*spec));
	spec->argv = argv;
	spec->max_output = 1024;
	spec->grace = 0.2;
	spec->on_output = on_output;
	spec->on_done = on_done;
	spec->udata = r;
}

/* Runs the loop until on_done (or the 20 s guard). */
static void
wait_done(struct run *r)
{
	ev_timer_start(r->loop, &r->guard);
	while (!r->done && ev_is_active(&r->guard))
		ev_run(r->loop, EVRUN_ONCE);
	ev_timer_stop(r->loop, &r->guard);
	ck_assert_msg(r->done, "the child did not finish");
}

/* Frees the child and runs the loop until the supervisor has reaped and
 * freed everything (or the guard). */
static void
wait_empty(struct run *r)
{
	vd_proc_free(r->proc);
	r->proc = NULL;
	ev_timer_start(r->loop, &r->guard);
	while (vd_procs_count(r->ps) > 0 && ev_is_active(&r->guard))
		ev_run(r->loop, EVRUN_ONCE);
	ev_timer_stop(r->loop, &r->guard);
	ck_assert_uint_eq(vd_procs_count(r->ps), 0);
}

static void
run_end(struct run *r)
{
	bool own = !ev_is_default_loop(r->loop);
	vd_procs_free(r->ps);
	if (own)
		ev_loop_destroy(r->loop);
}

/* Spawns argv with spec's defaults changed by the caller beforehand. */
static void
spawn_ok(struct run *r, const struct vd_proc_spec *spec)
{
	int e = vd_proc_spawn(r->ps, spec, &r->proc);
	ck_assert_msg(e == 0, "spawn: %s", strerror(e));
	ck_assert_ptr_nonnull(r->proc);
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

/* True once pid is gone or a zombie of someone else's (a reparented
 * grandchild is reaped by init), within two seconds. */
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

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

START_TEST(test_capped_output)
{
	char *argv[] = {"sh", "-c", "yes | head -c 100000; echo oops >&2",
			NULL};
	struct vd_proc_spec spec;
	struct run r;

	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spec.max_output = 1000;
	spawn_ok(&r, &spec);
	wait_done(&r);
	ck_assert(r.res.exited);
	ck_assert_int_eq(r.res.exit_code, 0);
	ck_assert_uint_eq(r.out_len, 1000);
	ck_assert(r.truncated);
	/* read to the end whatever the cap, streams kept apart */
	ck_assert_uint_eq(r.res.output_bytes, 100005);
	ck_assert_uint_eq(r.stream_bytes[VD_PROC_STDOUT], 100000);
	ck_assert_uint_eq(r.stream_bytes[VD_PROC_STDERR], 5);
	ck_assert(!r.res.output_open);
	wait_empty(&r);
	run_end(&r);
}
END_TEST

START_TEST(test_merged_output)
{
	char *argv[] = {"sh", "-c", "echo one; echo two >&2; echo three", NULL};
	struct vd_proc_spec spec;
	struct run r;

	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spec.merge_output = true;
	spawn_ok(&r, &spec);
	wait_done(&r);
	ck_assert_str_eq(r.out, "one\ntwo\nthree\n");
	ck_assert(!r.truncated);
	ck_assert_uint_eq(r.stream_bytes[VD_PROC_STDOUT], 14);
	ck_assert_uint_eq(r.stream_bytes[VD_PROC_STDERR], 0);
	wait_empty(&r);
	run_end(&r);
}
END_TEST

START_TEST(test_exit_by_signal)
{
	char *argv[] = {"sh", "-c", "echo bye; kill -9 $$", NULL};
	struct vd_proc_spec spec;
	struct run r;

	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spawn_ok(&r, &spec);
	wait_done(&r);
	ck_assert(!r.res.exited);
	ck_assert_int_eq(r.res.exit_code, -1);
	ck_assert_int_eq(r.res.signal, SIGKILL);
	ck_assert(!r.res.timed_out);
	ck_assert_str_eq(r.out, "bye\n");
	wait_empty(&r);
	run_end(&r);
}
END_TEST

/* The deadline: SIGTERM to the group, SIGKILL after the grace; the
 * grandchild ignores SIGTERM and holds the output pipe open. */
static void
timeout_kills_group(struct ev_loop *loop)
{
	char dir[] = "/tmp/vd-proc-XXXXXX", script[1024], p1[300], p2[300];
	char *argv[] = {"sh", "-c", script, NULL};
	struct vd_proc_spec spec;
	struct run r;
	pid_t leader, grandchild;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(p1, sizeof(p1), "%s/leader", dir);
	snprintf(p2, sizeof(p2), "%s/grandchild", dir);
	snprintf(script, sizeof(script),
		 "echo $$ > %s; (trap '' TERM; exec sleep 60) & echo $! > %s; "
		 "echo waiting; wait",
		 p1, p2);
	run_init(&r, loop);
	spec_init(&spec, &r, argv);
	spec.timeout = 0.3;
	spawn_ok(&r, &spec);
	wait_done(&r);
	ck_assert(r.res.timed_out);
	ck_assert_int_eq(r.res.signal, SIGTERM);
	ck_assert_str_eq(r.out, "waiting\n");
	leader = read_pid(p1);
	grandchild = read_pid(p2);
	ck_assert_int_eq(leader, r.res.pid);
	ck_assert(grandchild > 1);
	wait_empty(&r);
	/* the leader reaped (not even a zombie); the grandchild, which
	 * ignored SIGTERM, got SIGKILL */
	ck_assert(kill(leader, 0) < 0 && errno == ESRCH);
	ck_assert_msg(gone(grandchild), "grandchild %ld still running",
		      (long)grandchild);
	run_end(&r);
	unlink(p1);
	unlink(p2);
	rmdir(dir);
}

START_TEST(test_timeout_kills_group)
{
	timeout_kills_group(NULL);
}
END_TEST

START_TEST(test_timeout_kills_group_default_loop)
{
	timeout_kills_group(EV_DEFAULT);
}
END_TEST

/* kill_at_exit: a background process left by the leader dies with it, so
 * the output ends at once instead of after the drain wait. */
START_TEST(test_kill_at_exit)
{
	char *argv[] = {"sh", "-c", "sleep 60 & echo $!", NULL};
	struct vd_proc_spec spec;
	struct run r;
	pid_t bg;

	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spec.kill_at_exit = true;
	spawn_ok(&r, &spec);
	wait_done(&r);
	ck_assert(r.res.exited);
	ck_assert(!r.res.output_open);
	bg = (pid_t)atol(r.out);
	ck_assert(bg > 1);
	ck_assert(gone(bg));
	wait_empty(&r);
	run_end(&r);
}
END_TEST

/* Without kill_at_exit the pipe held by the background process ends the
 * wait after VD_PROC_DRAIN; freeing the child ends its group. */
START_TEST(test_output_open_after_exit)
{
	char *argv[] = {"sh", "-c", "sleep 60 & echo $!", NULL};
	struct vd_proc_spec spec;
	struct run r;
	pid_t bg;

	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spawn_ok(&r, &spec);
	wait_done(&r);
	ck_assert(r.res.exited);
	ck_assert(r.res.output_open);
	bg = (pid_t)atol(r.out);
	ck_assert(bg > 1);
	ck_assert(kill(bg, 0) == 0);
	wait_empty(&r);
	ck_assert(gone(bg));
	run_end(&r);
}
END_TEST

/* The barrier: nothing runs before vd_proc_release(); the pid given is
 * the command's own. */
START_TEST(test_barrier)
{
	char dir[] = "/tmp/vd-proc-XXXXXX", script[512], mark[300];
	char *argv[] = {"sh", "-c", script, NULL};
	struct vd_proc_spec spec;
	struct run r;
	struct stat sb;
	char want[32];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(mark, sizeof(mark), "%s/ran", dir);
	snprintf(script, sizeof(script), "touch %s; echo $$", mark);
	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spec.barrier = true;
	spawn_ok(&r, &spec);
	/* 200 ms on the loop: the child waits */
	ev_timer_set(&r.guard, 0.2, 0.);
	ev_timer_start(r.loop, &r.guard);
	while (ev_is_active(&r.guard))
		ev_run(r.loop, EVRUN_ONCE);
	ev_timer_set(&r.guard, 20., 0.);
	ck_assert(!r.done);
	ck_assert_int_lt(stat(mark, &sb), 0);
	ck_assert_int_eq(vd_proc_release(r.proc), 0);
	wait_done(&r);
	ck_assert(r.res.exited);
	ck_assert_int_eq(r.res.exit_code, 0);
	snprintf(want, sizeof(want), "%ld\n", (long)vd_proc_pid(r.proc));
	ck_assert_str_eq(r.out, want);
	ck_assert_int_eq(stat(mark, &sb), 0);
	wait_empty(&r);
	run_end(&r);
	unlink(mark);
	rmdir(dir);
}
END_TEST

/* Freed at the barrier: the child exits without running anything. */
START_TEST(test_barrier_never_released)
{
	char dir[] = "/tmp/vd-proc-XXXXXX", script[512], mark[300];
	char *argv[] = {"sh", "-c", script, NULL};
	struct vd_proc_spec spec;
	struct run r;
	struct stat sb;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(mark, sizeof(mark), "%s/ran", dir);
	snprintf(script, sizeof(script), "touch %s", mark);
	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spec.barrier = true;
	spawn_ok(&r, &spec);
	pid = vd_proc_pid(r.proc);
	wait_empty(&r);
	ck_assert(kill(pid, 0) < 0 && errno == ESRCH);
	ck_assert_int_lt(stat(mark, &sb), 0);
	run_end(&r);
	rmdir(dir);
}
END_TEST

START_TEST(test_env)
{
	struct vd_env e;
	char *argv[] = {"env", NULL};
	struct vd_proc_spec spec;
	struct run r;

	vd_env_init(&e, false);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_ptr_null(e.v[0]);
	vd_env_set(&e, "A", "1");
	vd_env_set(&e, "B", "2");
	vd_env_set(&e, "A", "3"); /* replaces, and moves to the end */
	ck_assert_uint_eq(e.n, 2);
	ck_assert_str_eq(e.v[0], "B=2");
	ck_assert_str_eq(e.v[1], "A=3");
	ck_assert_ptr_null(e.v[2]);
	ck_assert_str_eq(vd_env_get(&e, "A"), "3");
	ck_assert_ptr_null(vd_env_get(&e, "AB"));
	vd_env_unset(&e, "B");
	ck_assert_uint_eq(e.n, 1);
	ck_assert_ptr_null(vd_env_get(&e, "B"));

	/* a cleared environment reaches the child as it is (no PATH: the
	 * program is found in execvp's default, /bin:/usr/bin) */
	run_init(&r, NULL);
	spec_init(&spec, &r, argv);
	spec.envp = e.v;
	spawn_ok(&r, &spec);
	wait_done(&r);
	ck_assert_str_eq(r.out, "A=3\n");
	wait_empty(&r);
	run_end(&r);
	vd_env_free(&e);

	/* inherited: a copy of ours */
	setenv("VD_PROC_TEST", "inherited", 1);
	vd_env_init(&e, true);
	ck_assert_str_eq(vd_env_get(&e, "VD_PROC_TEST"), "inherited");
	vd_env_set(&e, "VD_PROC_TEST", "overridden");
	ck_assert_str_eq(vd_env_get(&e, "VD_PROC_TEST"), "overridden");
	ck_assert_str_eq(getenv("VD_PROC_TEST"), "inherited");
	vd_env_free(&e);
	unsetenv("VD_PROC_TEST");
}
END_TEST

START_TEST(test_find_program)
{
	char dir[] = "/tmp/vd-proc-XXXXXX", path[300], *found;
	int fd;

	ck_assert_int_eq(
		vd_proc_find_program("sh", NULL, "/nonexistent:/bin", &found),
		0);
	ck_assert_str_eq(found, "/bin/sh");
	free(found);
	ck_assert_int_eq(
		vd_proc_find_program("sh", NULL, "/nonexistent", &found),
		ENOENT);
	ck_assert_ptr_null(found);
	ck_assert_int_eq(
		vd_proc_find_program("no-such-program-vd", NULL, NULL, &found),
		ENOENT);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tool", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644); /* not executable */
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(vd_proc_find_program("tool", NULL, dir, &found),
			 EACCES);
	ck_assert_int_eq(vd_proc_find_program("./tool", dir, NULL, &found),
			 EACCES);
	chmod(path, 0755);
	/* a path with '/' is taken relative to cwd, and kept so */
	ck_assert_int_eq(vd_proc_find_program("./tool", dir, NULL, &found), 0);
	ck_assert_str_eq(found, "./tool");
	free(found);
	/* an empty PATH entry is the child's cwd */
	ck_assert_int_eq(
		vd_proc_find_program("tool", dir, "/nonexistent:", &found), 0);
	ck_assert_str_eq(found, "./tool");
	free(found);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_spawn_errors)
{
	char *missing[] = {"no-such-program-vd", NULL};
	char *pwd[] = {"pwd", NULL};
	struct vd_proc_spec spec;
	struct run r;
	int fds = count_fds();

	run_init(&r, NULL);
	spec_init(&spec, &r, missing);
	ck_assert_int_eq(vd_proc_spawn(r.ps, &spec, &r.proc), ENOENT);
	ck_assert_ptr_null(r.proc);
	spec_init(&spec, &r, pwd);
	spec.cwd = "/nonexistent-vd-dir";
	ck_assert_int_eq(vd_proc_spawn(r.ps, &spec, &r.proc), ENOENT);
	ck_assert_ptr_null(r.proc);
	ck_assert_uint_eq(vd_procs_count(r.ps), 0);
	run_end(&r);
	ck_assert_int_eq(count_fds(), fds);
}
END_TEST

/* Many children in a row, half of them killed at a deadline: no
 * descriptor kept, no child left unreaped. */
START_TEST(test_many_children)
{
	char *quick[] = {"sh", "-c", "echo ok", NULL};
	char *slow[] = {"sleep", "60", NULL};
	struct vd_proc_spec spec;
	struct run r;
	int i, fds;

	run_init(&r, NULL);
	fds = count_fds();
	for (i = 0; i < 200; i++) {
		r.done = false;
		spec_init(&spec, &r, i % 2 ? slow : quick);
		spec.timeout = i % 2 ? 0.01 : 0;
		spec.grace = 0.01;
		spawn_ok(&r, &spec);
		wait_done(&r);
		ck_assert(i % 2 ? r.res.timed_out : r.res.exit_code == 0);
		wait_empty(&r);
	}
	ck_assert_int_eq(count_fds(), fds);
	run_end(&r);
}
END_TEST

Suite *
proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("supervisor");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_capped_output);
	tcase_add_test(tc, test_merged_output);
	tcase_add_test(tc, test_exit_by_signal);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_timeout_kills_group_default_loop);
	tcase_add_test(tc, test_kill_at_exit);
	tcase_add_test(tc, test_output_open_after_exit);
	tcase_add_test(tc, test_barrier);
	tcase_add_test(tc, test_barrier_never_released);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_find_program);
	tcase_add_test(tc, test_spawn_errors);
	tcase_add_test(tc, test_many_children);
	suite_add_tcase(s, tc);
	return s;
}
