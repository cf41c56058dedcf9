/*
 * tlspeer.c - TCP peers that misbehave during a TLS handshake, for the
 * integration tests of the tls check. `tlspeer PORT MODE` listens on
 * 127.0.0.1:PORT, prints "ready", and serves each connection in a child
 * process until killed; a child ends when its peer goes away. Depends on
 * libc only; nothing of verdict (and no TLS library: the bytes are
 * written by hand).
 *
 * Each mode first reads the client's first TLS record (the ClientHello)
 * and then:
 *   hang     never answers; waits for the peer to close
 *   trickle  a handshake record header announcing 16 KiB, then one byte
 *            of it every 100 ms, forever
 *   reset    closes with a TCP RST
 *   close    closes cleanly (FIN) without a word
 *   garbage  256 bytes that are not TLS, then waits for the peer to close
 *   alert    a fatal handshake_failure alert, then closes
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Reads the first record (5-byte header and its body, at most 16 KiB).
 * Returns 0, or -1 when the peer closed or sent something else. */
static int
read_record(int fd)
{
	unsigned char buf[5 + 16384];
	size_t have = 0, want = 5;

	while (have < want) {
		ssize_t n = read(fd, buf + have, want - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		if (have == 5 && want == 5) {
			if (buf[0] != 0x16)
				return -1;
			want = 5 + ((size_t)buf[3] << 8 | buf[4]);
			if (want > sizeof(buf))
				return -1;
		}
	}
	return 0;
}

/* Waits until the peer closes (or resets). */
static void
drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void
serve(int fd, const char *mode)
{
	static const unsigned char trickle_head[] = {0x16, 0x03, 0x03, 0x40,
						     0x00};
	/* level fatal (2), handshake_failure (40) */
	static const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00,
					      0x02, 0x02, 0x28};
	const struct timespec tick = {0, 100 * 1000 * 1000};

	if (read_record(fd) != 0)
		return;
	if (strcmp(mode, "hang") == 0) {
		drain(fd);
	} else if (strcmp(mode, "trickle") == 0) {
		unsigned char b = 0x02; /* a ServerHello's type byte, and on */
		if (write(fd, trickle_head, sizeof(trickle_head)) < 0)
			return;
		while (write(fd, &b, 1) == 1)
			nanosleep(&tick, NULL);
	} else if (strcmp(mode, "reset") == 0) {
		struct linger l = {1, 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else if (strcmp(mode, "garbage") == 0) {
		unsigned char junk[256];
		size_t i;
		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)(0x80 + (i * 37) % 127);
		if (write(fd, junk, sizeof(junk)) < 0)
			return;
		drain(fd);
	} else if (strcmp(mode, "alert") == 0) {
		if (write(fd, alert, sizeof(alert)) < 0)
			return;
		shutdown(fd, SHUT_WR);
		drain(fd);
	}
	/* close: nothing to say */
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int one = 1, lfd;
	const char *modes[] = {"hang",	"trickle", "reset",
			       "close", "garbage", "alert"};
	size_t i;

	if (argc != 3) {
		fprintf(stderr, "usage: tlspeer PORT MODE\n");
		return 2;
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[2], modes[i]) == 0)
			break;
	if (i == sizeof(modes) / sizeof(modes[0])) {
		fprintf(stderr, "tlspeer: unknown mode %s\n", argv[2]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0) {
		perror("tlspeer: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 64) != 0) {
		perror("tlspeer: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pid_t pid;
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("tlspeer: accept");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve(fd, argv[2]);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
