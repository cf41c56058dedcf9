/*
 * silent.c - TCP peers that misbehave below HTTP, for the integration
 * tests of the tcp and tls checks. Listens on 127.0.0.1:PORT, prints
 * "ready", runs until killed. Depends on libc only; nothing of verdict.
 *
 *   silent PORT                accepts nothing: connects complete (the
 *                              kernel's backlog), nothing is ever said
 *   silent PORT --full         the accept queue is kept full, so a new
 *                              connect never completes (SYNs are dropped)
 *   silent PORT --banner TEXT  accepts, says TEXT, then echoes what it
 *                              reads, until the peer closes
 *   silent PORT --udp          a UDP socket that never answers: a DNS
 *                              server that is down but not refusing (no
 *                              ICMP port unreachable); prints "query N"
 *                              for each datagram of N bytes it reads
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 1024

static int
listener(int port, int backlog)
{
	struct sockaddr_in sa;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, backlog) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A bound UDP socket on 127.0.0.1:port, never answering. */
static int
udp_sink(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connects to ourselves until a connect does not complete at once. */
static void
fill_queue(int port)
{
	struct sockaddr_in sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 8; i++) {
		struct pollfd p;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			continue; /* queued; keep the socket open */
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, 200) == 0) {
			close(fd); /* this one hangs: the queue is full */
			return;
		}
	}
}

static void
serve_banner(int lfd, const char *banner)
{
	struct pollfd fds[MAX_CONNS + 1];
	nfds_t n = 1, i;
	char buf[4096];

	fds[0].fd = lfd;
	fds[0].events = POLLIN;
	for (;;) {
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			exit(1);
		}
		if ((fds[0].revents & POLLIN) && n <= MAX_CONNS) {
			int c = accept(lfd, NULL, NULL);
			if (c >= 0) {
				if (write(c, banner, strlen(banner)) < 0) {
					close(c);
				} else {
					fds[n].fd = c;
					fds[n].events = POLLIN;
					fds[n].revents = 0;
					n++;
				}
			}
		}
		for (i = 1; i < n; i++) {
			ssize_t r;
			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(fds[i].fd, buf, sizeof(buf));
			if (r > 0 && write(fds[i].fd, buf, (size_t)r) == r)
				continue;
			close(fds[i].fd);
			fds[i] = fds[n - 1];
			n--;
			i--;
		}
	}
}

int
main(int argc, char **argv)
{
	int port, fd;

	if (argc < 2 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: silent PORT [--full | --banner TEXT | "
				"--udp]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2 && strcmp(argv[2], "--full") == 0) {
		fd = listener(port, 0);
		if (fd < 0) {
			perror("silent: listen");
			return 1;
		}
		fill_queue(port);
	} else if (argc > 2 && strcmp(argv[2], "--udp") == 0) {
		char buf[4096];
		ssize_t n;
		fd = udp_sink(port);
		if (fd < 0) {
			perror("silent: bind");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n < 0 && errno != EINTR)
				return 1;
			if (n >= 0) {
				printf("query %zd\n", n);
				fflush(stdout);
			}
		}
	} else if (argc > 3 && strcmp(argv[2], "--banner") == 0) {
		fd = listener(port, 128);
		if (fd < 0) {
			perror("silent: listen");
			return 1;
		}
		printf("ready\n");
		fflush(stdout);
		serve_banner(fd, argv[3]);
		return 0;
	} else {
		fd = listener(port, 128);
		if (fd < 0) {
			perror("silent: listen");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
