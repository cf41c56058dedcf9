/*
 * state.c - the state directory of one environment: the lock (flock,
 * released by the kernel when verdict dies), the history (append-only
 * JSON lines, fsync'd per line) and the state file (temp file, fsync,
 * rename, fsync of the directory). Files 0600 in a 0700 directory.
 * Knows nothing of hooks, gates or notifiers.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "dep_int.h"

#define MAX_STATE_BYTES ((size_t)4 * 1024 * 1024)

void
vd_dep_utc(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	char base[32];
	int ms = (int)((t - (double)s) * 1000.0);
	if (ms < 0)
		ms = 0;
	if (ms > 999)
		ms = 999;
	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, ms);
}

const char *
vd_dep_jstr(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

const char *
vd_dep_jstr_or(const cJSON *obj, const char *key, const char *dflt)
{
	const char *s = vd_dep_jstr(obj, key);
	return s ? s : dflt;
}

double
vd_dep_jnum(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(it) ? it->valuedouble : dflt;
}

void
vd_dep_jset(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

void
vd_dep_jset_str(cJSON *obj, const char *key, const char *val)
{
	vd_dep_jset(obj, key,
		    val ? cJSON_CreateString(val) : cJSON_CreateNull());
}

void
vd_dep_jset_num(cJSON *obj, const char *key, double val)
{
	vd_dep_jset(obj, key, cJSON_CreateNumber(val));
}

/*
 * Tests only (tests/integration/test_deploy_crash.sh): with
 * VERDICT_TEST_CRASH_AFTER_WRITE=N in the environment, verdict kills
 * itself with SIGKILL right after its Nth durable write (a state save or
 * a history line), so that a kill -9 can be placed between any two
 * writes. Unset (always, outside tests): nothing happens.
 */
static void
crash_point(void)
{
	static long n, at = -1;
	if (at < 0) {
		const char *e = getenv("VERDICT_TEST_CRASH_AFTER_WRITE");
		at = e ? strtol(e, NULL, 10) : 0;
	}
	if (at > 0 && ++n == at)
		raise(SIGKILL);
}

static char *
file_path(const struct vd_dep_state *st, const char *suffix)
{
	return vd_xasprintf("%s/%s%s", st->dir, st->env, suffix);
}

static int
mkdir_p(const char *dir)
{
	char *p = vd_xstrdup(dir), *s;
	int r = 0;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (r == 0 && mkdir(p, 0700) < 0 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}

int
vd_dep_state_open(struct vd_dep_state *st, const char *dir, const char *env,
		  char *err, size_t errlen)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->dir_fd = st->lock_fd = st->hist_fd = -1;
	st->dir = vd_xstrdup(dir);
	st->env = vd_xstrdup(env);
	if (mkdir_p(dir) < 0) {
		snprintf(err, errlen, "state directory %s: %s", dir,
			 strerror(errno));
		return VD_ERR_IO;
	}
	st->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dir_fd < 0 || fstat(st->dir_fd, &sb) < 0) {
		snprintf(err, errlen, "state directory %s: %s", dir,
			 strerror(errno));
		return VD_ERR_IO;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "state directory %s: not a directory",
			 dir);
		return VD_ERR_IO;
	}
	st->dir_mode = sb.st_mode & 07777;
	st->dir_owned = sb.st_uid == geteuid();
	return 0;
}

int
vd_dep_state_writable(struct vd_dep_state *st, char *err, size_t errlen)
{
	/* the mode says; root could write anyway, but a directory made
	 * read-only on purpose is not ours to change (never chmodded) */
	bool ok = st->dir_owned ? (st->dir_mode & (S_IWUSR | S_IXUSR)) ==
					  (S_IWUSR | S_IXUSR)
				: faccessat(st->dir_fd, ".", W_OK | X_OK,
					    AT_EACCESS) == 0;
	if (ok)
		return 0;
	snprintf(err, errlen,
		 "state directory %s is not writable (mode %04o); verdict "
		 "does not change it: make it writable for the user verdict "
		 "runs as, or set another state_dir",
		 st->dir, (unsigned)st->dir_mode);
	return VD_ERR_IO;
}

void
vd_dep_state_close(struct vd_dep_state *st)
{
	if (st->hist_fd >= 0)
		close(st->hist_fd);
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the lock */
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	cJSON_Delete(st->state);
	free(st->dir);
	free(st->env);
	memset(st, 0, sizeof(*st));
	st->dir_fd = st->lock_fd = st->hist_fd = -1;
}

static int
open_file(const struct vd_dep_state *st, const char *suffix, int flags)
{
	char *p = file_path(st, suffix);
	int fd = open(p, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(p);
	return fd;
}

/* Reads a whole small file; NULL with errno on failure. */
static char *
slurp_fd(int fd, size_t max)
{
	struct vd_buf b;
	char chunk[4096];
	ssize_t n;
	vd_buf_init(&b, max);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		vd_buf_append(&b, chunk, (size_t)n);
	if (n < 0) {
		int e = errno;
		vd_buf_free(&b);
		errno = e;
		return NULL;
	}
	return vd_buf_steal(&b);
}

int
vd_dep_lock(struct vd_dep_state *st, const cJSON *owner_info, char *owner,
	    size_t ownerlen, char *err, size_t errlen)
{
	int fd = open_file(st, ".lock", O_RDWR | O_CREAT);
	char *text;

	if (owner && ownerlen)
		owner[0] = '\0';
	if (fd < 0) {
		snprintf(err, errlen, "lock %s/%s.lock: %s", st->dir, st->env,
			 strerror(errno));
		return VD_ERR_IO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			cJSON *o;
			text = slurp_fd(fd, (size_t)64 * 1024);
			o = text ? cJSON_Parse(text) : NULL;
			if (o && owner) {
				snprintf(
					owner, ownerlen,
					"deployment %s of version %s (%s, pid "
					"%.0f on %s, started %s%s%s)",
					vd_dep_jstr_or(o, "deployment_id", "?"),
					vd_dep_jstr_or(o, "version", "?"),
					vd_dep_jstr_or(o, "command", "?"),
					vd_dep_jnum(o, "pid", 0),
					vd_dep_jstr_or(o, "host", "?"),
					vd_dep_jstr_or(o, "started_at", "?"),
					vd_dep_jstr(o, "actor") ? ", by " : "",
					vd_dep_jstr_or(o, "actor", ""));
			} else if (owner) {
				snprintf(owner, ownerlen,
					 "a process that has not yet said who "
					 "it is");
			}
			cJSON_Delete(o);
			free(text);
			close(fd);
			return 1;
		}
		snprintf(err, errlen, "lock %s/%s.lock: %s", st->dir, st->env,
			 strerror(e));
		close(fd);
		return VD_ERR_IO;
	}
	st->lock_fd = fd;
	/* who holds it, for the one that is refused */
	text = cJSON_PrintUnformatted(owner_info);
	if (text == NULL)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, strlen(text), 0) < 0) {
		snprintf(err, errlen, "lock %s/%s.lock: %s", st->dir, st->env,
			 strerror(errno));
		free(text);
		return VD_ERR_IO;
	}
	free(text);
	return 0;
}

bool
vd_dep_lock_held(struct vd_dep_state *st, pid_t *pid)
{
	/* /proc/locks names the inode of every flock; taking even a shared
	 * lock here could make a concurrent deploy's attempt fail. */
	char *p = file_path(st, ".lock");
	struct stat sb;
	FILE *f;
	char line[512];
	bool held = false;

	*pid = 0;
	if (stat(p, &sb) < 0) {
		free(p);
		return false;
	}
	free(p);
	f = fopen("/proc/locks", "re");
	if (f == NULL)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char kind[32], adv[32], mode[32];
		unsigned maj, min;
		unsigned long long ino;
		long lpid;
		char *s = strchr(line, ':');
		if (s == NULL || strstr(line, "->") != NULL)
			continue; /* a waiter, not a holder */
		if (sscanf(s + 1, " %31s %31s %31s %ld %x:%x:%llu", kind, adv,
			   mode, &lpid, &maj, &min, &ino) != 7)
			continue;
		if (strcmp(kind, "FLOCK") == 0 &&
		    ino == (unsigned long long)sb.st_ino &&
		    makedev(maj, min) == sb.st_dev) {
			held = true;
			*pid = (pid_t)lpid;
			break;
		}
	}
	fclose(f);
	return held;
}

/* Rebuilds what the history knows when the state file is gone: the
 * known-good version, the current one and the last result, from the last
 * result line. */
static void
rebuild_cb(const cJSON *line, void *udata)
{
	cJSON *state = udata;
	const char *ev = vd_dep_jstr(line, "event");
	const cJSON *kg, *cur;
	cJSON *last;
	if (ev == NULL || strcmp(ev, "result") != 0)
		return;
	kg = cJSON_GetObjectItemCaseSensitive(line, "known_good");
	if (cJSON_IsObject(kg))
		vd_dep_jset(state, "known_good", cJSON_Duplicate(kg, 1));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(state, "known_good");
	cur = cJSON_GetObjectItemCaseSensitive(line, "current");
	if (cJSON_IsObject(cur))
		vd_dep_jset(state, "current", cJSON_Duplicate(cur, 1));
	last = cJSON_CreateObject();
	vd_dep_jset_str(last, "deployment_id",
			vd_dep_jstr(line, "deployment_id"));
	vd_dep_jset_str(last, "kind", vd_dep_jstr(line, "kind"));
	vd_dep_jset_str(last, "version", vd_dep_jstr(line, "version"));
	vd_dep_jset_str(last, "result", vd_dep_jstr(line, "result"));
	vd_dep_jset_num(last, "exit_code", vd_dep_jnum(line, "exit_code", -1));
	vd_dep_jset_str(last, "reason", vd_dep_jstr(line, "reason"));
	vd_dep_jset_str(last, "finished_at", vd_dep_jstr(line, "ts"));
	vd_dep_jset(state, "last", last);
}

int
vd_dep_state_load(struct vd_dep_state *st, char *err, size_t errlen)
{
	int fd = open_file(st, ".state.json", O_RDONLY);
	char *text;

	cJSON_Delete(st->state);
	st->state = NULL;
	if (fd < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s/%s.state.json: %s", st->dir,
				 st->env, strerror(errno));
			return VD_ERR_IO;
		}
		st->state = cJSON_CreateObject();
		vd_dep_jset_str(st->state, "environment", st->env);
		if (vd_dep_history_each(st, rebuild_cb, st->state) < 0) {
			snprintf(err, errlen, "%s/%s.history.jsonl: %s",
				 st->dir, st->env, strerror(errno));
			return VD_ERR_IO;
		}
		return 0;
	}
	text = slurp_fd(fd, MAX_STATE_BYTES);
	close(fd);
	if (text == NULL) {
		snprintf(err, errlen, "%s/%s.state.json: %s", st->dir, st->env,
			 strerror(errno));
		return VD_ERR_IO;
	}
	st->state = cJSON_Parse(text);
	free(text);
	if (st->state == NULL || !cJSON_IsObject(st->state)) {
		snprintf(err, errlen,
			 "%s/%s.state.json: not valid JSON (damaged outside "
			 "verdict? move it away: the known-good version is "
			 "rebuilt from the history)",
			 st->dir, st->env);
		cJSON_Delete(st->state);
		st->state = NULL;
		return VD_ERR_CONFIG;
	}
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
vd_dep_state_save(struct vd_dep_state *st, char *err, size_t errlen)
{
	char *tmp = file_path(st, ".state.json.tmp");
	char *dst = file_path(st, ".state.json");
	char *text = cJSON_Print(st->state);
	int fd, r = 0;

	if (text == NULL)
		abort();
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 ||
	    write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		r = VD_ERR_IO;
	}
	if (fd >= 0 && close(fd) < 0 && r == 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		r = VD_ERR_IO;
	}
	if (r == 0 && rename(tmp, dst) < 0) {
		snprintf(err, errlen, "rename %s: %s", tmp, strerror(errno));
		r = VD_ERR_IO;
	}
	if (r == 0 && fsync(st->dir_fd) < 0) {
		snprintf(err, errlen, "fsync %s: %s", st->dir, strerror(errno));
		r = VD_ERR_IO;
	}
	if (r)
		(void)unlink(tmp);
	free(text);
	free(tmp);
	free(dst);
	if (r == 0)
		crash_point();
	return r;
}

int
vd_dep_history_append(struct vd_dep_state *st, cJSON *line, char *err,
		      size_t errlen)
{
	char ts[40], *text, last = '\n';
	struct vd_buf b;
	struct stat sb;
	off_t size = -1;
	int r = 0;

	if (st->hist_fd < 0) {
		st->hist_fd = open_file(st, ".history.jsonl",
					O_RDWR | O_APPEND | O_CREAT);
		if (st->hist_fd < 0 || fsync(st->dir_fd) < 0) {
			snprintf(err, errlen, "%s/%s.history.jsonl: %s",
				 st->dir, st->env, strerror(errno));
			return VD_ERR_IO;
		}
	}
	vd_dep_utc(vd_now_unix(), ts, sizeof(ts));
	if (!cJSON_GetObjectItemCaseSensitive(line, "ts")) {
		/* "ts" first, for people reading the file */
		cJSON *t = cJSON_CreateString(ts);
		t->string = vd_xstrdup("ts");
		t->next = line->child;
		if (line->child) {
			t->prev = line->child->prev;
			line->child->prev = t;
		} else {
			t->prev = t;
		}
		line->child = t;
	}
	text = cJSON_PrintUnformatted(line);
	if (text == NULL)
		abort();
	vd_buf_init(&b, 0);
	if (fstat(st->hist_fd, &sb) == 0) {
		size = sb.st_size;
		/* a line torn by a crash must not swallow the next one (the
		 * lock holder repairs it first: vd_dep_history_repair) */
		if (size > 0 &&
		    pread(st->hist_fd, &last, 1, sb.st_size - 1) != 1)
			last = '\n';
	}
	if (last != '\n')
		vd_buf_puts(&b, "\n");
	vd_buf_puts(&b, text);
	vd_buf_puts(&b, "\n");
	if (write_all(st->hist_fd, b.data, b.len) < 0 ||
	    fsync(st->hist_fd) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s/%s.history.jsonl: %s", st->dir,
			 st->env, strerror(e));
		/* nothing half-written: a full disk or a file size limit
		 * (EFBIG, SIGXFSZ ignored) may have let a part through */
		if (size >= 0 && ftruncate(st->hist_fd, size) == 0)
			(void)fsync(st->hist_fd);
		r = VD_ERR_IO;
	}
	vd_buf_free(&b);
	free(text);
	if (r == 0)
		crash_point();
	return r;
}

long
vd_dep_history_repair(struct vd_dep_state *st, char *err, size_t errlen)
{
	int fd = open_file(st, ".history.jsonl", O_RDWR);
	struct stat sb;
	char buf[4096];
	off_t end, pos;
	long dropped = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s/%s.history.jsonl: %s", st->dir,
			 st->env, strerror(errno));
		return VD_ERR_IO;
	}
	if (fstat(fd, &sb) < 0)
		goto fail;
	end = sb.st_size;
	/* back to the last newline: what follows it was never finished */
	for (pos = end; pos > 0;) {
		off_t from =
			pos > (off_t)sizeof(buf) ? pos - (off_t)sizeof(buf) : 0;
		ssize_t n = pread(fd, buf, (size_t)(pos - from), from), i;
		if (n != pos - from)
			goto fail;
		for (i = n - 1; i >= 0 && buf[i] != '\n'; i--)
			;
		if (i >= 0) {
			pos = from + i + 1;
			break;
		}
		pos = from;
	}
	if (pos < end) {
		if (ftruncate(fd, pos) < 0 || fsync(fd) < 0)
			goto fail;
		dropped = (long)(end - pos);
	}
	close(fd);
	return dropped;
fail:
	snprintf(err, errlen, "%s/%s.history.jsonl: %s", st->dir, st->env,
		 strerror(errno));
	close(fd);
	return VD_ERR_IO;
}

int
vd_dep_history_each(struct vd_dep_state *st,
		    void (*fn)(const cJSON *line, void *udata), void *udata)
{
	int fd = open_file(st, ".history.jsonl", O_RDONLY);
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : VD_ERR_IO;
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return VD_ERR_IO;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		cJSON *o;
		if (n == 0 || line[0] == '\n')
			continue;
		o = cJSON_Parse(line);
		/* a torn last line (a crash mid-write) is skipped */
		if (o && cJSON_IsObject(o))
			fn(o, udata);
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	return 0;
}
