/*
 * test_local_cgroup.c - the pure parts of a run's cgroup
 * (offers/local_cgroup.c): finding the hierarchies in /proc/self/mountinfo
 * (a pure v2 host, a hybrid one with v1 controllers, a container whose mount
 * root is not "/"), this process's place in each from /proc/self/cgroup, the
 * directory that makes, the limits' values, and the record a run directory
 * keeps (which never names a directory chronos did not make).
 */
#include "../unit.h"

#include <stdbool.h>

#include "offers/local_int.h"

/* A hybrid host (systemd's "hybrid" layout; this one is a Firecracker VM). */
static const char hybrid_mounts[] =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n"
    "41 22 0:38 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw\n";

static const char hybrid_self[] = "9:name=systemd:/\n"
                                  "8:pids:/\n"
                                  "6:freezer:/\n"
                                  "4:memory:/process_api/f33e\n"
                                  "2:cpu,cpuacct:/\n"
                                  "0::/\n";

static void test_hybrid(void **state)
{
    (void)state;
    struct chr_local_cg_host h;
    memset(&h, 0, sizeof h);
    chr_local_cg_parse_mounts(hybrid_mounts, &h);
    chr_local_cg_parse_self(hybrid_self, &h);
    assert_string_equal(h.point[CHR_LOCAL_CG_V2], "/sys/fs/cgroup/unified");
    assert_string_equal(h.point[CHR_LOCAL_CG_MEMORY], "/sys/fs/cgroup/memory");
    assert_string_equal(h.point[CHR_LOCAL_CG_CPU], "/sys/fs/cgroup/cpu,cpuacct");
    assert_string_equal(h.point[CHR_LOCAL_CG_PIDS], "/sys/fs/cgroup/pids");
    assert_string_equal(h.point[CHR_LOCAL_CG_FREEZER], "/sys/fs/cgroup/freezer");
    char dir[CHR_LOCAL_CG_PATH_MAX];
    assert_true(chr_local_cg_home(&h, CHR_LOCAL_CG_MEMORY, dir, sizeof dir));
    assert_string_equal(dir, "/sys/fs/cgroup/memory/process_api/f33e");
    assert_true(chr_local_cg_home(&h, CHR_LOCAL_CG_CPU, dir, sizeof dir));
    assert_string_equal(dir, "/sys/fs/cgroup/cpu,cpuacct");
    assert_true(chr_local_cg_home(&h, CHR_LOCAL_CG_V2, dir, sizeof dir));
    assert_string_equal(dir, "/sys/fs/cgroup/unified");
}

/* A pure v2 host under systemd: one hierarchy, every controller on it. */
static void test_pure_v2(void **state)
{
    (void)state;
    struct chr_local_cg_host h;
    memset(&h, 0, sizeof h);
    chr_local_cg_parse_mounts("25 22 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 "
                              "rw,nsdelegate,memory_recursiveprot\n",
                              &h);
    chr_local_cg_parse_self("0::/system.slice/chronos.service\n", &h);
    char dir[CHR_LOCAL_CG_PATH_MAX];
    assert_true(chr_local_cg_home(&h, CHR_LOCAL_CG_V2, dir, sizeof dir));
    assert_string_equal(dir, "/sys/fs/cgroup/system.slice/chronos.service");
    for (int k = CHR_LOCAL_CG_MEMORY; k < CHR_LOCAL_CG_N; k++)
        assert_false(chr_local_cg_home(&h, k, dir, sizeof dir));
}

/* A container: the mount shows only the container's subtree. */
static void test_container_root(void **state)
{
    (void)state;
    struct chr_local_cg_host h;
    memset(&h, 0, sizeof h);
    chr_local_cg_parse_mounts("700 690 0:30 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n",
                              &h);
    chr_local_cg_parse_self("0::/docker/abc/init\n", &h);
    char dir[CHR_LOCAL_CG_PATH_MAX];
    assert_true(chr_local_cg_home(&h, CHR_LOCAL_CG_V2, dir, sizeof dir));
    assert_string_equal(dir, "/sys/fs/cgroup/init");
    memset(h.self, 0, sizeof h.self); /* a path the mount does not show */
    chr_local_cg_parse_self("0::/other/x\n", &h);
    assert_false(chr_local_cg_home(&h, CHR_LOCAL_CG_V2, dir, sizeof dir));
    memset(h.self, 0, sizeof h.self);
    chr_local_cg_parse_self("0::/docker/abcdef\n", &h); /* a prefix, not the subtree */
    assert_false(chr_local_cg_home(&h, CHR_LOCAL_CG_V2, dir, sizeof dir));
}

static void test_no_cgroups(void **state)
{
    (void)state;
    struct chr_local_cg_host h;
    memset(&h, 0, sizeof h);
    chr_local_cg_parse_mounts("22 1 0:21 / /proc rw - proc proc rw\nnot a mount line\n", &h);
    chr_local_cg_parse_self("garbage\n1:memory\n", &h);
    char dir[CHR_LOCAL_CG_PATH_MAX];
    for (int k = 0; k < CHR_LOCAL_CG_N; k++)
        assert_false(chr_local_cg_home(&h, k, dir, sizeof dir));
}

static void test_values(void **state)
{
    (void)state;
    assert_true(chr_local_cg_mem_bytes(128) == 128LL * 1024 * 1024);
    assert_true(chr_local_cg_mem_bytes(0.5) == 512LL * 1024);
    assert_true(chr_local_cg_mem_bytes(0.000001) == 4096); /* never below a page */
    assert_int_equal(chr_local_cg_cpu_quota_us(0.1), 10000);
    assert_int_equal(chr_local_cg_cpu_quota_us(2), 200000);
    assert_int_equal(chr_local_cg_cpu_quota_us(0.001), 1000); /* the kernel's minimum */
}

static void test_record(void **state)
{
    (void)state;
    struct chr_local_cgroup cg, back;
    memset(&cg, 0, sizeof cg);
    snprintf(cg.dir[CHR_LOCAL_CG_V2], sizeof cg.dir[0], "/sys/fs/cgroup/unified/chronos-1-ct_1");
    snprintf(cg.dir[CHR_LOCAL_CG_MEMORY], sizeof cg.dir[0],
             "/sys/fs/cgroup/memory/a/chronos-1-ct_1");
    char text[1024];
    size_t n = chr_local_cg_format(&cg, text, sizeof text);
    assert_int_equal(n, strlen(text));
    assert_string_equal(text, "v2 /sys/fs/cgroup/unified/chronos-1-ct_1\n"
                              "memory /sys/fs/cgroup/memory/a/chronos-1-ct_1\n");
    chr_local_cg_parse(text, &back);
    assert_string_equal(back.dir[CHR_LOCAL_CG_V2], cg.dir[CHR_LOCAL_CG_V2]);
    assert_string_equal(back.dir[CHR_LOCAL_CG_MEMORY], cg.dir[CHR_LOCAL_CG_MEMORY]);
    assert_string_equal(back.dir[CHR_LOCAL_CG_CPU], "");
    /* Never a directory chronos did not make. */
    chr_local_cg_parse("v2 /sys/fs/cgroup/system.slice\n"
                       "memory /tmp/chronos-x\n"
                       "pids /sys/fs/cgroup/pids/../../etc/chronos-x\n"
                       "cpu /sys/fs/cgroup/cpu/chronos-1-x\n",
                       &back);
    assert_string_equal(back.dir[CHR_LOCAL_CG_V2], "");
    assert_string_equal(back.dir[CHR_LOCAL_CG_MEMORY], "");
    assert_string_equal(back.dir[CHR_LOCAL_CG_PIDS], "");
    assert_string_equal(back.dir[CHR_LOCAL_CG_CPU], "/sys/fs/cgroup/cpu/chronos-1-x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hybrid),     cmocka_unit_test(test_pure_v2),
        cmocka_unit_test(test_container_root), cmocka_unit_test(test_no_cgroups),
        cmocka_unit_test(test_values),     cmocka_unit_test(test_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
