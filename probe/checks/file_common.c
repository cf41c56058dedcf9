/*
 * file_common.c - what the file checks (env_file, json_file) share: reading
 * a small local file with a cap (a plain read on the loop: the file is
 * local and capped), the "path" key, and ending a check with its list of
 * findings. Knows nothing of suites, reports or exporters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/cfg.h"
#include "../../lib/util.h"
#include "checks.h"

static void
wipe_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

void
vd_check_file_free(char *data, size_t len)
{
	wipe_free(data, len + 1);
}

/*
 * A plain, blocking read on the loop: the file is local and small (at most
 * cap bytes, the check's max_body), which costs microseconds. O_NONBLOCK on
 * open keeps a FIFO from stalling the loop; only regular files are read.
 * A file on a hung network mount would still block: document, not solve.
 */
bool
vd_check_file_read(struct vd_attempt *att, const char *path, size_t cap,
		   char **data, size_t *len)
{
	char lim[32];
	struct stat st;
	size_t have = 0, size;
	char *buf = NULL;
	ssize_t n;
	int fd, err;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT || err == ENOTDIR)
			vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
					  "%s: no such file", path);
		else
			vd_attempt_finish(
				att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				"%s: cannot read: %s", path, strerror(err));
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
				  "%s: not a regular file", path);
		close(fd);
		return false;
	}
	snprintf(lim, sizeof(lim), "%zu bytes", cap);
	if ((unsigned long long)st.st_size > cap) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
				  "%s: larger than max_body (%s)", path, lim);
		close(fd);
		return false;
	}
	/* One byte more than the file's size shows whether it grew. */
	size = (size_t)st.st_size + 1;
	buf = vd_xmalloc(size + 1);
	for (;;) {
		if (have == size) {
			char *bigger;
			if (size > cap)
				break;
			bigger = vd_xmalloc(size * 2 + 1);
			memcpy(bigger, buf, have);
			wipe_free(buf, size + 1);
			buf = bigger;
			size *= 2;
		}
		n = read(fd, buf + have, size - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			vd_attempt_finish(
				att, VD_STATUS_ERROR, VD_REASON_INTERNAL,
				"%s: cannot read: %s", path, strerror(err));
			close(fd);
			wipe_free(buf, size + 1);
			return false;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (have > cap) {
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY,
				  "%s: larger than max_body (%s)", path, lim);
		wipe_free(buf, size + 1);
		return false;
	}
	buf[have] = '\0';
	/* Hand out a block of exactly have + 1 bytes, so the caller's
	 * vd_check_file_free() wipes all of it. */
	*data = vd_xmalloc(have + 1);
	memcpy(*data, buf, have + 1);
	wipe_free(buf, size + 1);
	*len = have;
	return true;
}

int
vd_check_file_path(struct vd_cfg *c, char **path)
{
	int r = vd_cfg_path(c, "path", true, path);
	if (!r && **path == '\0')
		r = vd_cfg_error(c, "path", "must not be empty");
	return r;
}

void
vd_check_findings_finish(struct vd_attempt *att, struct vd_buf *f, size_t nf,
			 const char *fmt, ...)
{
	va_list ap;
	char *pass;

	if (nf > VD_CHECK_MAX_FINDINGS)
		vd_buf_printf(f, "; and %zu more", nf - VD_CHECK_MAX_FINDINGS);
	vd_result_fact_num(att->result, "findings_count", (double)nf);
	if (nf) {
		vd_result_fact_str(att->result, "findings", f->data);
		vd_attempt_finish(att, VD_STATUS_FAIL, VD_REASON_POLICY, "%s",
				  f->data);
		return;
	}
	va_start(ap, fmt);
	pass = vd_xvasprintf(fmt, ap);
	va_end(ap);
	vd_attempt_finish(att, VD_STATUS_PASS, VD_REASON_NONE, "%s", pass);
	free(pass);
}
