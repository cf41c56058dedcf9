/*
 * state.c - the state directory of one environment: the lock (flock,
 * released by the kernel when verdict dies), the history (append-only
 * JSON lines, fsync'd per line) and the state file (temp file, fsync,
 * rename, fsync of the directory). Files 0600 in a 0700 directory.
 * Knows nothing of hooks, gates or notifiers.
 */
#include <errno.h>
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

#define MAX_STATE_BYTES (4 * 1024 * 1024)

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
	/* our own directory: nobody else reads the records */
	if (sb.st_uid == geteuid() && (sb.st_mode & 0077) != 0)
		(void)fchmod(st->dir_fd, 0700);
	return 0;
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
			text = slurp_fd(fd, 64 * 1024);
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
 * known-good version of the last deployment that finished. */
static void
rebuild_cb(const cJSON *line, void *udata)
{
	cJSON *state = udata;
	const char *ev = vd_dep_jstr(line, "event");
	const cJSON *kg;
	if (ev == NULL || strcmp(ev, "result") != 0)
		return;
	kg = cJSON_GetObjectItemCaseSensitive(line, "known_good");
	if (cJSON_IsObject(kg))
		vd_dep_jset(state, "known_good", cJSON_Duplicate(kg, 1));
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
	return r;
}

int
vd_dep_history_append(struct vd_dep_state *st, cJSON *line, char *err,
		      size_t errlen)
{
	char ts[40], *text, last = '\n';
	struct vd_buf b;
	struct stat sb;
	int r = 0;

	if (st->hist_fd < 0) {
		st->hist_fd = open_file(st, ".history.jsonl",
					O_WRONLY | O_APPEND | O_CREAT);
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
	/* a line torn by a crash must not swallow the next one */
	if (fstat(st->hist_fd, &sb) == 0 && sb.st_size > 0) {
		int rfd = open_file(st, ".history.jsonl", O_RDONLY);
		if (rfd >= 0) {
			if (pread(rfd, &last, 1, sb.st_size - 1) != 1)
				last = '\n';
			close(rfd);
		}
	}
	if (last != '\n')
		vd_buf_puts(&b, "\n");
	vd_buf_puts(&b, text);
	vd_buf_puts(&b, "\n");
	if (write_all(st->hist_fd, b.data, b.len) < 0 ||
	    fsync(st->hist_fd) < 0) {
		snprintf(err, errlen, "%s/%s.history.jsonl: %s", st->dir,
			 st->env, strerror(errno));
		r = VD_ERR_IO;
	}
	vd_buf_free(&b);
	free(text);
	return r;
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
