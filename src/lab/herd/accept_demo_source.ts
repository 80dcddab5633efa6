// The seed's two demonstrations as one small C program (Node can neither block in accept() nor share
// an epoll instance across processes), kept here as text so that the checkout and the installed
// package (which ships only dist/) compile the same source. demonstrations.ts writes it to a
// temporary directory and builds it with the C compiler.
//
// Usage: herd-accept-demo MODE PROCESSES SLEEP_MS
//   blocking-accept  every child blocks in accept() on the one socket (the kernel wakes one: WQ_FLAG_EXCLUSIVE)
//   shared-epoll     one epoll instance made before fork(), shared by every child (the seed's program)
//   own-epoll        each child its own epoll instance on the shared socket (herd shared, node SCHED_NONE)
//   own-epoll-exclusive  the same with EPOLLEXCLUSIVE (Linux 4.5+), as nginx registers it
// SLEEP_MS: pause after waking, before accept() (the seed's sleep: the others are woken meanwhile).
// The parent connects once; the children report woke PID (returned from accept/epoll_wait), accepted
// PID, eagain PID. Then the parent prints `switched PID N` per child: its voluntary context switches
// during the connection, read from /proc — a child the kernel woke that found nothing and slept again
// without returning shows there and nowhere else. Last line: `done`.
export const ACCEPT_DEMO_C = String.raw`#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE (1u << 28)
#endif

static void say(const char *what) {
    char line[64];
    int n = snprintf(line, sizeof line, "%s %d\n", what, (int)getpid());
    if (write(1, line, (size_t)n) < 0) _exit(2);
}

static void pause_ms(int ms) {
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

static long voluntary_switches(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long n = -1;
    while (fgets(line, sizeof line, f)) if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1) break;
    fclose(f);
    return n;
}

static void take(int sfd, int sleep_ms) {
    if (sleep_ms > 0) pause_ms(sleep_ms);
    int c = accept(sfd, NULL, NULL);
    if (c >= 0) { say("accepted"); close(c); }
    else say(errno == EAGAIN || errno == EWOULDBLOCK ? "eagain" : "error");
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s MODE PROCESSES SLEEP_MS\n", argv[0]); return 64; }
    const char *mode = argv[1];
    int processes = atoi(argv[2]), sleep_ms = atoi(argv[3]);
    int blocking = strcmp(mode, "blocking-accept") == 0;
    int shared = strcmp(mode, "shared-epoll") == 0;
    int exclusive = strcmp(mode, "own-epoll-exclusive") == 0;
    if (!blocking && !shared && !exclusive && strcmp(mode, "own-epoll") != 0) { fprintf(stderr, "unknown mode %s\n", mode); return 64; }
    if (processes < 1 || processes > 64) { fprintf(stderr, "PROCESSES must be 1 to 64\n"); return 64; }

    int sfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(sfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(sfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(sfd, SOMAXCONN) != 0) { perror("bind/listen"); return 1; }
    socklen_t len = sizeof addr;
    getsockname(sfd, (struct sockaddr *)&addr, &len);
    if (!blocking) fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL, 0) | O_NONBLOCK);

    int shared_efd = -1;
    if (shared) {
        shared_efd = epoll_create1(0);
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = sfd };
        epoll_ctl(shared_efd, EPOLL_CTL_ADD, sfd, &ev);
    }
    pid_t children[64];
    for (int i = 0; i < processes; i++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid > 0) { children[i] = pid; continue; }
        if (blocking) {
            for (;;) { int c = accept(sfd, NULL, NULL); say("woke"); if (c >= 0) { say("accepted"); close(c); } else say("error"); }
        }
        int efd = shared_efd;
        if (efd < 0) {
            efd = epoll_create1(0);
            struct epoll_event ev = { .events = EPOLLIN | (exclusive ? EPOLLEXCLUSIVE : 0), .data.fd = sfd };
            if (epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev) != 0) { perror("epoll_ctl"); _exit(1); }
        }
        for (;;) {
            struct epoll_event got;
            if (epoll_wait(efd, &got, 1, -1) == 1) { say("woke"); take(sfd, sleep_ms); }
        }
    }
    pause_ms(300); /* every child asleep in accept() or epoll_wait() */
    long before[64];
    for (int i = 0; i < processes; i++) before[i] = voluntary_switches(children[i]);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(client, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 1; }
    pause_ms(sleep_ms + 300);
    for (int i = 0; i < processes; i++) printf("switched %d %ld\n", (int)children[i], voluntary_switches(children[i]) - before[i]);
    fflush(stdout);
    for (int i = 0; i < processes; i++) kill(children[i], SIGKILL);
    for (int i = 0; i < processes; i++) waitpid(children[i], NULL, 0);
    close(client);
    printf("done\n");
    return 0;
}
`;
