/*
 * ci.c - who and where a deployment runs: its id, the actor, the host
 * and the CI metadata (GITHUB_* variables, masked). Reads only the
 * environment and the system; records nothing.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dep_int.h"

void
vd_dep_make_id(char *buf, size_t len)
{
	unsigned char rnd[3] = {0, 0, 0};
	char ts[40];
	time_t now = time(NULL);
	struct tm tm;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		pid_t p = getpid();
		rnd[0] = (unsigned char)p;
		rnd[1] = (unsigned char)(p >> 8);
		rnd[2] = (unsigned char)now;
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "%s-%02x%02x%02x", ts, rnd[0], rnd[1], rnd[2]);
}

/* Who deploys: GITHUB_ACTOR, USER or LOGNAME, else the login name of
 * the uid, else "uid N" (a container or a systemd unit sets none). */
const char *
vd_dep_actor(void)
{
	static const char *const vars[] = {"GITHUB_ACTOR", "USER", "LOGNAME",
					   NULL};
	static char who[64];
	const struct passwd *pw;
	size_t i;
	for (i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return v;
	}
	pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name)
		snprintf(who, sizeof(who), "%s", pw->pw_name);
	else
		snprintf(who, sizeof(who), "uid %lu", (unsigned long)getuid());
	return who;
}

cJSON *
vd_dep_ci_info(void)
{
	static const char *const vars[] = {"GITHUB_RUN_ID",
					   "GITHUB_RUN_ATTEMPT",
					   "GITHUB_WORKFLOW",
					   "GITHUB_SHA",
					   "GITHUB_REF",
					   "GITHUB_REPOSITORY",
					   "GITHUB_EVENT_NAME",
					   "GITHUB_JOB",
					   "CI",
					   NULL};
	cJSON *o = cJSON_CreateObject();
	size_t i;
	for (i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v) {
			char *m = vd_mask(v);
			char key[64];
			size_t k;
			for (k = 0; vars[i][k] && k < sizeof(key) - 1; k++)
				key[k] =
					(char)(vars[i][k] >= 'A' &&
							       vars[i][k] <= 'Z'
						       ? vars[i][k] - 'A' + 'a'
						       : vars[i][k]);
			key[k] = '\0';
			vd_dep_jset_str(o, key, m);
			free(m);
		}
	}
	return o;
}

const char *
vd_dep_hostname(void)
{
	static char h[256];
	if (h[0] == '\0' && gethostname(h, sizeof(h) - 1) < 0)
		snprintf(h, sizeof(h), "?");
	return h;
}

/* exit code of a result */
