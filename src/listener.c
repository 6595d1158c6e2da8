/* listener: SO_REUSEPORT listening sockets, one per worker and address. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cutover/listener.h"

#define LISTENER_BACKLOG 1024

int
listener_open(const struct listener_conf *l)
{
	int one = 1;
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
		goto fail;
	if (l->addr.ss_family == AF_INET6) {
		/* "*:PORT" means every address, IPv4 ones included. */
		int v6only = l->any_address ? 0 : 1;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) == -1)
		goto fail;
	if (listen(fd, LISTENER_BACKLOG) == -1)
		goto fail;
	return fd;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}
