/*
 * The relay's sockets (stream.h): listen, accept one, connect with retries.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream.h"

#define CONNECT_RETRY_USEC (100 * 1000)
/* Socket buffers of a few MiB: a migration moves gigabytes, and the relay
 * should not make either side wait for every 200 KiB. Best effort. */
#define SOCKET_BUFFER (4 << 20)

static void widen_socket(int fd)
{
    int size = SOCKET_BUFFER;

    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* "host:port", "[v6]:port", ":port" */
static bool split_address(const char *addr, char **host, char **port,
                          GError **errp)
{
    const char *colon = strrchr(addr, ':');

    if (!colon || !colon[1]) {
        g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "'%s' is not ADDR:PORT", addr);
        return false;
    }
    *port = g_strdup(colon + 1);
    if (addr[0] == '[' && colon > addr && colon[-1] == ']') {
        *host = g_strndup(addr + 1, (gsize)(colon - addr - 2));
    } else {
        *host = colon > addr ? g_strndup(addr, (gsize)(colon - addr)) : NULL;
    }
    return true;
}

static struct addrinfo *resolve(const char *addr, bool passive, GError **errp)
{
    g_autofree char *host = NULL, *port = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = passive ? AI_PASSIVE : 0};
    struct addrinfo *res = NULL;
    int rc;

    if (!split_address(addr, &host, &port, errp)) {
        return NULL;
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", addr,
                    gai_strerror(rc));
        return NULL;
    }
    return res;
}

int app_listen(const char *addr, GError **errp)
{
    struct addrinfo *res = resolve(addr, true, errp);
    int fd = -1, one = 1, err = 0;

    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        widen_socket(fd); /* accepted sockets inherit it */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1)) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    if (res) {
        freeaddrinfo(res);
        if (fd < 0) {
            g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                        "cannot listen on %s: %s", addr, g_strerror(err));
        }
    }
    return fd;
}

int app_accept_one(int listen_fd, GError **errp)
{
    int fd;

    do {
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "accept: %s", g_strerror(errno));
    }
    close(listen_fd);
    return fd;
}

static int connect_once(const char *addr, int *err, GError **errp)
{
    struct addrinfo *res = resolve(addr, false, errp);
    int fd = -1;

    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd >= 0) {
            widen_socket(fd);
        }
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
            *err = errno;
            close(fd);
            fd = -1;
        }
    }
    if (res) {
        freeaddrinfo(res);
    }
    return fd;
}

int app_connect_retry(const char *addr, int timeout_s, GError **errp)
{
    gint64 deadline =
        g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    int err = 0, one = 1;

    for (;;) {
        GError *local = NULL;
        int fd = connect_once(addr, &err, &local);
        if (fd >= 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            return fd;
        }
        if (local) {
            g_propagate_error(errp, local);
            return -1;
        }
        if (g_get_monotonic_time() >= deadline) {
            break;
        }
        g_usleep(CONNECT_RETRY_USEC);
    }
    g_set_error(errp, G_FILE_ERROR, g_file_error_from_errno(err),
                "cannot connect to %s within %d s: %s", addr, timeout_s,
                g_strerror(err));
    return -1;
}
