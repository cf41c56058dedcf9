/*
 * match_bench.c - `make bench`: the cost of one search on a 1 MiB body,
 * verdict's matcher (PCRE2 with limits, JIT) next to glibc's regexec
 * (what verdict used before). Prints one line per pattern and subject:
 * "name<TAB>pcre2 ms<TAB>glibc ms|skipped". Figures only; nothing asserted.
 */
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/match.h"

#define MIB	  (1024 * 1024)
#define RUNS	  5
#define GLIBC_MAX 10 /* seconds a glibc search may take before it is shot */

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 MiB of JSON-ish text, or of one repeated byte */
static char *
subject(const char *kind)
{
	char *s = malloc(MIB + 1);
	size_t i;
	if (s == NULL)
		abort();
	if (strcmp(kind, "json") == 0) {
		static const char rec[] =
			"{\"id\":12345,\"name\":\"item\",\"price\":9.5},";
		for (i = 0; i < MIB; i++)
			s[i] = rec[i % (sizeof(rec) - 1)];
	} else {
		memset(s, kind[0], MIB);
	}
	s[MIB] = '\0';
	return s;
}

/*
 * glibc's regexec cannot be stopped from outside: it runs in a child that
 * is killed after GLIBC_MAX seconds. Returns ms per search, or -1.
 */
static double
glibc_ms(const char *pattern, const char *s)
{
	int fd[2], st;
	double ms = -1;
	pid_t pid;

	if (pipe(fd) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		regex_t posix;
		double t0;
		int r;
		alarm(GLIBC_MAX);
		if (regcomp(&posix, pattern, REG_EXTENDED | REG_NOSUB) != 0)
			_exit(1);
		t0 = now();
		for (r = 0; r < RUNS; r++)
			(void)regexec(&posix, s, 0, NULL, 0);
		ms = (now() - t0) / RUNS * 1000;
		if (write(fd[1], &ms, sizeof(ms)) != sizeof(ms))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &ms, sizeof(ms)) != sizeof(ms))
		ms = -1;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	return ms;
}

int
main(void)
{
	static const struct {
		const char *name, *pattern, *kind;
	} t[] = {
		{"literal, absent", "needle-not-there", "json"},
		{"anchored prefix", "^\\{\"id\"", "json"},
		{"class + count, absent", "[0-9]{3}-[0-9]{4}", "json"},
		{"dot-star chain", "\"id\".*\"price\".*\\}\\]$", "json"},
		{"alternation star, absent", "(ab|cd)*ef", "a"},
		{"nested star", "(a*)*b", "a"},
		{"dot-star x5", ".*.*.*.*.*=.*", "a"},
	};
	size_t i;
	int r;

	printf("pattern\tsubject\tpcre2 ms\tpcre2 result\tglibc ms\n");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char err[200], *s = subject(t[i].kind);
		struct vd_regex *re =
			vd_regex_new(t[i].pattern, 0, err, sizeof(err));
		const char *limit = NULL;
		double t0, pc, gl;
		enum vd_match m = VD_MATCH_NO;

		if (re == NULL) {
			fprintf(stderr, "%s: %s\n", t[i].pattern, err);
			return 1;
		}
		t0 = now();
		for (r = 0; r < RUNS; r++)
			m = vd_regex_search(re, s, MIB, &limit);
		pc = (now() - t0) / RUNS * 1000;
		gl = glibc_ms(t[i].pattern, s);
		printf("%s\t1 MiB %s\t%.2f\t%s\t", t[i].name, t[i].kind, pc,
		       m == VD_MATCH_YES  ? "match"
		       : m == VD_MATCH_NO ? "no match"
					  : limit);
		if (gl >= 0)
			printf("%.2f\n", gl);
		else
			printf("over %d s (killed)\n", GLIBC_MAX);
		vd_regex_free(re);
		free(s);
	}
	return 0;
}
