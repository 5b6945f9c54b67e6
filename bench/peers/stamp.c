/*
 * stamp.c - the task every peer runs in bench/peers: reads CLOCK_REALTIME as
 * the first thing after exec, then appends "<ns> <tag>\n" to FILE with one
 * write(2) to an O_APPEND file (so concurrent stamps never interleave).
 * Usage: stamp FILE TAG.  Linked statically when possible (run.sh), so that
 * dynamic loading adds nothing between exec and the clock read; the same
 * binary for chronos, cron and BullMQ.  Exits 0, or 1 when it cannot write.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (argc != 3)
        return 2;
    char line[512];
    int n = snprintf(line, sizeof line, "%lld %s\n",
                     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, argv[2]);
    if (n <= 0 || (size_t)n >= sizeof line)
        return 2;
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return 1;
    ssize_t w = write(fd, line, (size_t)n);
    close(fd);
    return w == n ? 0 : 1;
}
