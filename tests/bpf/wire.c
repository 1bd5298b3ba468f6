// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/libbpf.h>
#include <check.h>
#include "wire.h"

/* Private to the test's netns (kt_setup unshares it), so fixed names are safe. */
#define TX_IF	"kt_tx"
#define RX_IF	"kt_rx"

static int tx_fd = -1, rx_fd = -1, tx_ifindex;

static int packet_socket(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	ck_assert_msg(fd >= 0, "AF_PACKET socket: %s", strerror(errno));
	sll.sll_ifindex = if_nametoindex(ifname);
	ck_assert_msg(sll.sll_ifindex, "no interface %s", ifname);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0, "bind to %s: %s",
		      ifname, strerror(errno));
	return fd;
}

static void wire_up(void)
{
	int rc;

	if (tx_fd >= 0)
		return;
	rc = system("ip link add " TX_IF " type veth peer name " RX_IF " && ip link set " TX_IF
		    " up && ip link set " RX_IF " up");
	ck_assert_msg(rc == 0, "creating veth pair %s/%s in the test netns failed (ip: %d)",
		      TX_IF, RX_IF, rc);
	tx_ifindex = if_nametoindex(TX_IF);
	rc = bpf_tc_hook_create(&(struct bpf_tc_hook){ .sz = sizeof(struct bpf_tc_hook),
		.ifindex = tx_ifindex, .attach_point = BPF_TC_EGRESS });
	ck_assert_msg(!rc, "clsact on %s: %s", TX_IF, strerror(-rc));
	rx_fd = packet_socket(RX_IF);
	tx_fd = packet_socket(TX_IF);
}

static void attach_egress(int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tx_ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err = bpf_tc_attach(&hook, &opts);

	ck_assert_msg(!err, "tc attach on %s egress: %s", TX_IF, strerror(-err));
}

void kt_wire_run(int prog_fd, const struct pkt *in, struct pkt *out)
{
	struct pollfd pfd;
	ssize_t n;

	wire_up();
	attach_egress(prog_fd);
	while (recv(rx_fd, out->data, sizeof(out->data), MSG_DONTWAIT) >= 0)
		;	/* whatever the links sent on their own */
	ck_assert_msg(send(tx_fd, in->data, in->len, 0) == (ssize_t)in->len,
		      "sending a %u-byte frame on %s: %s", in->len, TX_IF, strerror(errno));
	/* Our frame is the one with our MAC addresses; the kernel's own use the veth's. */
	for (;;) {
		pfd = (struct pollfd){ .fd = rx_fd, .events = POLLIN };
		ck_assert_msg(poll(&pfd, 1, 5000) == 1,
			      "the %u-byte frame never reached %s: dropped?", in->len, RX_IF);
		n = recv(rx_fd, out->data, sizeof(out->data), 0);
		ck_assert_msg(n >= 0, "recv on %s: %s", RX_IF, strerror(errno));
		if (n >= 12 && !memcmp(out->data, in->data, 12))
			break;
	}
	out->len = n;
}

void kt_wire_reset(void)
{
	if (tx_fd >= 0)
		close(tx_fd);
	if (rx_fd >= 0)
		close(rx_fd);
	tx_fd = rx_fd = -1;
}
