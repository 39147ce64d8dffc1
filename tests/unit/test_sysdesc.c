/* The system description's reader (servers/root/sysdesc.c) on the host:
 * the shipped descriptions (the .dts files in systems/) read as they say, every kind of
 * bad description is refused with an error naming its node, and damaged
 * blobs are refused without a fault (ASan watches).  Descriptions are
 * compiled with dtc, as the build does. */
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "host.h"
#include "servers/root/sysdesc.h"

/* The machine: QEMU virt's devices the descriptions may name. */
static const char machine_dts[] =
	"/dts-v1/; / { #address-cells = <2>; #size-cells = <2>;\n"
	"  pl031@9010000 { compatible = \"arm,pl031\", \"arm,primecell\";\n"
	"    reg = <0 0x9010000 0 0x1000>; interrupts = <0 2 4>; };\n"
	"  pl011@9000000 { compatible = \"arm,pl011\", \"arm,primecell\";\n"
	"    reg = <0 0x9000000 0 0x1000>; interrupts = <0 1 4>; };\n"
	"  odd@9030000 { compatible = \"x\"; reg = <0 0x9030100 0 0x100>; };\n"
	"  big@9040000 { compatible = \"x\"; reg = <0 0x9040000 0 0x1000>; interrupts = <0 90 4>; };\n"
	"  wrap@9050000 { compatible = \"x\"; reg = <0 0x9050000 0 0x1000>;\n"
	"    interrupts = <0 0xffffffe1 4>; };\n"
	"  bus { compatible = \"simple-bus\"; #address-cells = <2>; #size-cells = <2>; ranges;\n"
	"    inner@9061000 { compatible = \"x\"; reg = <0 0x9061000 0 0x1000>; }; };\n"
	"  off@9070000 { compatible = \"x\"; reg = <0 0x9070000 0 0x1000>; status = \"disabled\"; };\n"
	"  its@9080000 { compatible = \"x\"; reg = <0 0x9080000 0 0x1000>; msi-controller;\n"
	"    interrupt-controller; };\n"
	"};\n";

static void *blob;
static size_t blob_size;
static void *machine_blob;

/* dtc's output for `src` (a file name, or text when from_text). */
static void *compile(const char *src, bool from_text, size_t *size)
{
	char in[] = "/tmp/sysdesc-XXXXXX", cmd[512];
	if (from_text) {
		int fd = mkstemp(in);
		assert_true(fd >= 0);
		FILE *f = fdopen(fd, "w");
		fputs(src, f);
		fclose(f);
		src = in;
	}
	snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o - %s", src);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	void *buf = malloc(1 << 16);
	*size = fread(buf, 1, 1 << 16, p);
	int rc = pclose(p);
	if (from_text)
		unlink(in);
	assert_int_equal(rc, 0);
	assert_true(*size > 0);
	return buf;
}

static struct machine machine(void)
{
	if (!machine_blob) {
		size_t n;
		machine_blob = compile(machine_dts, true, &n);
	}
	return (struct machine){ .memory = 900ull << 20, .ncpus = 2, .dtb = machine_blob };
}

static bool parse_file(const char *path, struct system *s)
{
	struct machine m = machine();
	free(blob);
	blob = compile(path, false, &blob_size);
	return sysdesc_parse(blob, blob_size, &m, s);
}

static bool parse_text(const char *dts, struct system *s)
{
	struct machine m = machine();
	free(blob);
	blob = compile(dts, true, &blob_size);
	return sysdesc_parse(blob, blob_size, &m, s);
}

static struct system sys;

static void default_system(void **state)
{
	assert_true(parse_file("systems/default.dts", &sys));
	assert_int_equal(sys.nguests, 1);
	assert_true(sys.drv[DRIVER_BLK].present && sys.drv[DRIVER_NET].present);
	assert_int_equal(sys.drv[DRIVER_BLK].s.restart, RESTART_ALWAYS);
	assert_int_equal(sys.drv[DRIVER_BLK].s.restart_limit, 8);
	assert_int_equal(sys.drv[DRIVER_BLK].ids[1], 0x10421af4);
	assert_int_equal(sys.blk[0].driver, DRIVER_BLK);
	assert_int_equal(sys.net[0].driver, DRIVER_NET);
	const struct sd_guest *g = &sys.guest[0];
	assert_string_equal(g->s.path, "/linux");
	assert_int_equal(g->cfg.magic, GUEST_CONFIG_MAGIC);
	assert_int_equal(g->cfg.vcpus, 2);
	assert_int_equal(g->cfg.cpu[1], 1);
	assert_int_equal(g->cfg.mem_mib, 256);
	assert_int_equal(g->cfg.prio, 99);
	assert_int_equal(g->s.prio, 100);
	assert_true(g->cfg.console_input);
	assert_string_equal(g->cfg.kernel, "linux");
	assert_int_equal(g->blk, 0);
	assert_int_equal(g->blk_port, 1);
	assert_int_equal(g->net_port, 1);
	assert_int_equal(sys.ncon, 1);
	assert_string_equal(sys.con.s.path, "/console-server");
	assert_int_equal(g->con, 0);
	assert_int_equal(g->con_port, 1);
	assert_int_equal(g->s.restart, RESTART_NEVER);
	/* the NIC's driver and the switch beside VCPU 1, the rest on CPU 0 */
	assert_int_equal(sys.drv[DRIVER_NET].s.cpu, 1);
	assert_int_equal(sys.net[0].s.cpu, 1);
	assert_int_equal(sys.drv[DRIVER_BLK].s.cpu, 0);
	assert_int_equal(sys.blk[0].s.cpu, 0);
	assert_int_equal(g->s.cpu, 0);
	/* RAM and the VMM's own, two drivers, the PCI server, three backends */
	assert_int_equal(sys.quota >> 20, 256 + 64 + 4 + 4 + 16 + 16 + 16 + 16);
}

static void two_guests(void **state)
{
	assert_true(parse_file("systems/two-guests.dts", &sys));
	assert_int_equal(sys.nguests, 2);
	assert_int_equal(sys.guest[1].blk_port, 2);
	assert_int_equal(sys.guest[1].net_port, 2);
	assert_int_equal(sys.blk[0].nclients, 2);
	assert_int_equal(sys.net[0].nclients, 2);
	assert_int_equal(sys.con.nclients, 2);
	assert_int_equal(sys.guest[1].con_port, 2);
	assert_int_equal(sys.guest[1].cfg.vcpus, 1);
	assert_int_equal(sys.guest[1].cfg.cpu[0], 1);
	assert_false(sys.guest[1].cfg.console_input);
	assert_string_equal(sys.guest[1].cfg.name, "guest2");
	assert_int_equal(sys.guest[1].cfg.prio, 99); /* no priority said: the VMM at 100 */
	assert_int_equal(sys.guest[1].s.prio, 100);
}

static void passthrough(void **state)
{
	assert_true(parse_file("systems/passthrough.dts", &sys));
	assert_int_equal(sys.ndrv, 0);
	assert_int_equal(sys.blk[0].driver, -1);
	assert_int_equal(sys.blk[0].ram_disk_mib, 16);
	const struct guest_config *c = &sys.guest[0].cfg;
	assert_int_equal(c->npass, 1);
	assert_int_equal(c->pass[0].pa, 0x9010000);
	assert_int_equal(c->pass[0].size, 0x1000);
	assert_int_equal(c->pass[0].intid, 34);
	assert_int_equal(c->pass[0].compatible_len, sizeof("arm,pl031\0arm,primecell"));
	assert_memory_equal(c->pass[0].compatible, "arm,pl031\0arm,primecell",
			    c->pass[0].compatible_len);
	assert_int_equal(sys.guest[0].s.restart, RESTART_ALWAYS);
	assert_int_equal(sys.guest[0].s.restart_limit, 1);
	assert_int_equal(sys.quota >> 20, 256 + 64 + 16 + 16);
}

#define HEAD "/dts-v1/; / { compatible = \"cairn,system\";\n"
#define BLK "blk: b { compatible = \"cairn,block-server\"; };\n"
#define LAN "lan: s { compatible = \"cairn,net-switch\"; };\n"
#define GUEST(name, props) name " { compatible = \"cairn,linux-guest\"; " props " };\n"

/* Each bad description and the error it must get (a prefix of it). */
static const struct bad {
	const char *dts, *error;
} bad[] = {
	{ HEAD GUEST("g", "vpcus = <2>;") "};", "/g: unknown property \"vpcus\"" },
	{ HEAD "x { compatible = \"cairn,toaster\"; };};", "/x: unknown compatible \"cairn,toaster\"" },
	{ HEAD "x { memory-mib = <4>; };};", "/x: no compatible" },
	{ "/dts-v1/; / { g { compatible = \"cairn,linux-guest\"; }; };",
	  "/: the root node's compatible must be \"cairn,system\"" },
	{ HEAD "colour = \"red\"; " GUEST("g", "") "};", "/: unknown property \"colour\"" },
	{ HEAD GUEST("g", "virtio-blk = <0x99>;") "};",
	  "/g: \"virtio-blk\" leads nowhere (no node has phandle 153)" },
	/* 0 is no phandle: not the first node without a label */
	{ HEAD BLK "b2 { compatible = \"cairn,block-server\"; };" GUEST("g", "virtio-blk = <0>;") "};",
	  "/g: \"virtio-blk\" leads nowhere (no node has phandle 0)" },
	{ HEAD LAN GUEST("g", "virtio-blk = <&lan>;") "};",
	  "/g: \"virtio-blk\" leads to a node that is not a cairn,block-server" },
	{ HEAD LAN GUEST("g", "virtio-console = <&lan>;") "};",
	  "/g: \"virtio-console\" leads to a node that is not a cairn,console-server" },
	{ HEAD "c1 { compatible = \"cairn,console-server\"; };"
	       "c2 { compatible = \"cairn,console-server\"; };" GUEST("g", "") "};",
	  "/c2: more than 1 cairn,console-server nodes" },
	{ HEAD "c { compatible = \"cairn,console-server\"; uplink = <1>; };" GUEST("g", "") "};",
	  "/c: unknown property \"uplink\"" },
	{ HEAD BLK GUEST("g", "virtio-blk = <&blk &blk>;") "};",
	  "/g: \"virtio-blk\" must be one reference" },
	{ HEAD GUEST("g", "passthrough = \"/pl011@9000000\";") "};",
	  "/g: passthrough device pl011@9000000 overlaps the guest's emulated devices" },
	{ HEAD GUEST("g1", "passthrough = \"/pl031@9010000\";")
	       GUEST("g2", "passthrough = \"/pl031@9010000\";") "};",
	  "/g2: passthrough device pl031@9010000 overlaps memory already given to /g1" },
	{ HEAD GUEST("g", "passthrough = \"/pl031@9010000\", \"/pl031@9010000\";") "};",
	  "/g: passthrough device pl031@9010000 overlaps memory already given to /g" },
	{ HEAD GUEST("g", "passthrough = \"/rtc\";") "};",
	  "/g: passthrough device \"/rtc\" is not in the machine" },
	{ HEAD GUEST("g", "passthrough = \"/odd@9030000\";") "};",
	  "/g: passthrough device \"/odd@9030000\" is not whole pages" },
	{ HEAD GUEST("g", "passthrough = \"/big@9040000\";") "};",
	  "/g: passthrough device \"/big@9040000\": its interrupt is not an SPI below 96" },
	/* SPI 2^32 - 31: INTID 1, an SGI, were 32 added to it in 32 bits */
	{ HEAD GUEST("g", "passthrough = \"/wrap@9050000\";") "};",
	  "/g: passthrough device \"/wrap@9050000\": its interrupt is not an SPI below 96" },
	/* a path without its NUL: it would be read on past the property */
	{ HEAD GUEST("g", "passthrough = [2f 70 6c 30 33 31 40 39 30 31 30 30 30 30];") "};",
	  "/g: \"passthrough\" must be strings, device paths" },
	{ HEAD GUEST("g", "passthrough = \"/pl031@9010000\", [2f 72];") "};",
	  "/g: \"passthrough\" must be strings, device paths" },
	/* devices the root task is not given (spawn.c: top-level nodes, enabled,
	 * not the kernel's): the guest would start without them, and fail */
	{ HEAD GUEST("g", "passthrough = \"/bus/inner@9061000\";") "};",
	  "/g: passthrough device \"/bus/inner@9061000\" is not the root task's to give" },
	{ HEAD GUEST("g", "passthrough = \"/off@9070000\";") "};",
	  "/g: passthrough device \"/off@9070000\" is not the root task's to give" },
	{ HEAD GUEST("g", "passthrough = \"/its@9080000\";") "};",
	  "/g: passthrough device \"/its@9080000\" is not the root task's to give" },
	{ HEAD GUEST("g", "memory-mib = <2048>;") "};",
	  "/: the quotas add up to 2112 MiB; the root task has 900 MiB" },
	{ HEAD GUEST("g1", "memory-mib = <576>;") GUEST("g2", "memory-mib = <256>;") "};",
	  "/: the quotas add up to 960 MiB" },
	{ HEAD GUEST("g", "vcpus = <9>;") "};", "/g: \"vcpus\" is 9: it must be 1 to 4" },
	{ HEAD GUEST("g", "vcpus = \"three\";") "};", "/g: \"vcpus\" must be one number" },
	{ HEAD GUEST("g", "cpus = <0 5>;") "};", "/g: \"cpus\" names CPU 5: the machine has 2" },
	/* every CPU named, whether or not a VCPU runs there */
	{ HEAD GUEST("g", "vcpus = <1>; cpus = <0 5>;") "};",
	  "/g: \"cpus\" names CPU 5: the machine has 2" },
	{ HEAD GUEST("g", "priority = <0>;") "};", "/g: \"priority\" is 0: it must be 1 to 254" },
	{ HEAD "lan: s { compatible = \"cairn,net-switch\"; cpu = <2>; };"
	       GUEST("g", "virtio-net = <&lan>;") "};", "/s: \"cpu\" is 2: it must be 0 to 1" },
	/* a guest node has no "cpu": its VMM stays on CPU 0 */
	{ HEAD GUEST("g", "cpu = <1>;") "};", "/g: unknown property \"cpu\"" },
	{ HEAD GUEST("g", "restart = \"sometimes\";") "};",
	  "/g: \"restart\" must be \"always\" or \"never\"" },
	{ HEAD GUEST("g", "kernel = <1>;") "};", "/g: \"kernel\" must be one string" },
	{ HEAD "blk: b { compatible = \"cairn,block-server\"; restart-limit = <1001>; };"
	       GUEST("g", "virtio-blk = <&blk>;") "};",
	  "/b: \"restart-limit\" is 1001: it must be 0 to 1000" },
	{ HEAD GUEST("g1", "console-input;") GUEST("g2", "console-input;") "};",
	  "/: 2 guests ask for console input: one at most" },
	{ HEAD "d { compatible = \"cairn,blk-driver\"; };" GUEST("g", "") "};",
	  "/: /d: no block server uses this driver" },
	{ HEAD "d: d { compatible = \"cairn,blk-driver\"; };"
	       "b1: b1 { compatible = \"cairn,block-server\"; disk = <&d>; };"
	       "b2: b2 { compatible = \"cairn,block-server\"; disk = <&d>; };"
	       GUEST("g", "virtio-blk = <&b1>;") "};",
	  "/: /b2: its disk driver serves another block server" },
	{ HEAD "d: d { compatible = \"cairn,blk-driver\"; };"
	       "b: b { compatible = \"cairn,block-server\"; disk = <&d>; ram-disk-mib = <4>; };"
	       GUEST("g", "virtio-blk = <&b>;") "};",
	  "/b: \"ram-disk-mib\" is for a block server without a disk" },
	{ HEAD "d1 { compatible = \"cairn,net-driver\"; }; d2 { compatible = \"cairn,net-driver\"; };"
	       GUEST("g", "") "};", "/d2: more than 1 cairn,net-driver nodes" },
	{ HEAD GUEST("g", "") GUEST("h", "") GUEST("i", "") GUEST("j", "") GUEST("k", "") "};",
	  "/k: more than 4 cairn,linux-guest nodes" },
	{ HEAD GUEST("g", "") "x { compatible = \"cairn,net-switch\"; y { }; };};",
	  "/x: unexpected child node" },
	{ HEAD "};", "/: no guest: nothing to run" },
};

static void bad_descriptions(void **state)
{
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = parse_text(bad[i].dts, &sys);
		if (ok || strncmp(sys.error, bad[i].error, strlen(bad[i].error)))
			fail_msg("case %u: got \"%s\", expected \"%s\"", i, ok ? "(accepted)" : sys.error,
				 bad[i].error);
	}
}

/* Not a blob, a blob cut short, a blob with random bytes changed: refused
 * or read, never a fault, and every error names its place (a damaged
 * name too). */
static void damaged_blobs(void **state)
{
	struct machine m = machine();
	static const char junk[64] = "this is not a device tree";
	assert_false(sysdesc_parse(junk, sizeof(junk), &m, &sys));
	assert_string_equal(sys.error, "/: not a device tree blob (compile it with dtc)");
	assert_true(parse_file("systems/two-guests.dts", &sys));
	assert_false(sysdesc_parse(blob, blob_size - 1, &m, &sys));
	assert_false(sysdesc_parse(blob, 4, &m, &sys));
	unsigned refused = 0;
	srand(7);
	for (unsigned round = 0; round < 40000; round++) {
		if (round == 20000) /* then one whose paths reach the machine's tree */
			assert_true(parse_file("systems/passthrough.dts", &sys));
		uint8_t *copy = malloc(blob_size);
		memcpy(copy, blob, blob_size);
		for (unsigned k = 0, n = 1 + rand() % 4; k < n; k++)
			copy[rand() % blob_size] = (uint8_t)rand();
		if (!sysdesc_parse(copy, blob_size, &m, &sys)) {
			refused++;
			if (!strstr(sys.error, ": ")) /* the node, then what is wrong */
				fail_msg("error \"%s\"", sys.error);
		}
		free(copy);
	}
	assert_true(refused > 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_system),
		cmocka_unit_test(two_guests),
		cmocka_unit_test(passthrough),
		cmocka_unit_test(bad_descriptions),
		cmocka_unit_test(damaged_blobs),
	};
	return RUN_TESTS("sysdesc", tests);
}
