// SPDX-License-Identifier: Apache-2.0
/* Container state: ids, the state file's round trip, status from the shim's liveness. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ign/fdio.h"
#include "state.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ign-state-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(state, .init = setup, .fini = teardown);

static struct ign_state sample(void)
{
	struct ign_state st = { .status = IGN_CREATED, .pid = getpid(), .exit_status = -1 };

	strcpy(st.id, "c1");
	strcpy(st.oci_version, "1.0.2-dev");
	strcpy(st.bundle, "/b");
	strcpy(st.rootfs, "/b/rootfs");
	ign_now_rfc3339(st.created, sizeof(st.created));
	st.pid_start = ign_proc_start_time(getpid());
	return st;
}

Test(state, ids)
{
	cr_assert_eq(ign_id_check("abc-1_2.3+x", NULL), 0);
	cr_assert_lt(ign_id_check("", NULL), 0);
	cr_assert_lt(ign_id_check("..", NULL), 0);
	cr_assert_lt(ign_id_check("a/b", NULL), 0);
	cr_assert_lt(ign_id_check("a b", NULL), 0);
	char longid[IGN_ID_MAX + 2];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	cr_assert_lt(ign_id_check(longid, NULL), 0);
}

Test(state, round_trip)
{
	struct ign_state st = sample(), back;
	struct ign_err err = { 0 };

	cr_assert_eq(ign_json_parse("{\"k\":\"v\"}", &st.annotations, NULL), 0);
	cr_assert_eq(ign_state_write(dir, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(ign_state_read(dir, &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.id, "c1");
	cr_assert_str_eq(back.oci_version, "1.0.2-dev");
	cr_assert_eq(back.status, IGN_CREATED);
	cr_assert_eq(back.pid, getpid());
	cr_assert_eq(back.pid_start, st.pid_start);
	cr_assert_eq(back.exit_status, -1);
	cr_assert_str_eq(back.created, st.created);
	const char *v;
	cr_assert_eq(ign_json_string(ign_json_member(back.annotations, "k"), "k", &v, NULL), 0);
	cr_assert_str_eq(v, "v");
	ign_state_free(&st);
	ign_state_free(&back);
}

Test(state, output_is_runcs)
{
	struct ign_state st = sample();
	struct ign_jgen *g = ign_jgen_new();

	st.status = IGN_STOPPED;
	ign_state_gen(&st, g);
	ign_jgen_map_close(g);
	char *text = ign_jgen_finish(g);
	ign_jgen_free(g);
	cr_assert(strstr(text, "\"pid\":0"), "a stopped container's pid is 0: %s", text);
	cr_assert(strstr(text, "\"status\":\"stopped\""));
	cr_assert(strstr(text, "\"owner\":\"\""));
	cr_assert(!strstr(text, "ignPidStart"), "private fields stay in state.json");
	free(text);
}

Test(state, refresh_follows_the_shim)
{
	struct ign_state st = sample();

	ign_state_refresh(&st);
	cr_assert_eq(st.status, IGN_CREATED, "our own pid is alive");
	st.pid_start += 1;  /* the pid was reused by another process */
	ign_state_refresh(&st);
	cr_assert_eq(st.status, IGN_STOPPED);

	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	st = sample();
	st.status = IGN_RUNNING;
	st.pid = child;
	st.pid_start = ign_proc_start_time(child);
	ign_state_refresh(&st);
	cr_assert_eq(st.status, IGN_RUNNING);
	kill(child, SIGKILL);
	usleep(100000);  /* a zombie now: gone as far as the state is concerned */
	ign_state_refresh(&st);
	cr_assert_eq(st.status, IGN_STOPPED);
	waitpid(child, NULL, 0);
}

Test(state, damaged_file_names_itself)
{
	char path[128];
	struct ign_state st;
	struct ign_err err = { 0 };

	snprintf(path, sizeof(path), "%s/state.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"id\":\"c9\",\"status\":", f);
	fclose(f);
	cr_assert_lt(ign_state_read(dir, &st, &err), 0);
	cr_assert(strstr(err.msg, "state.json is damaged"), "%s", err.msg);
	cr_assert(strstr(err.msg, "delete --force"), "%s", err.msg);
	ign_state_free(&st);
}

Test(state, write_is_atomic_and_leaves_no_temp)
{
	struct ign_state st = sample();
	char cmd[160];

	for (int i = 0; i < 20; i++) {
		st.status = i % 2 ? IGN_RUNNING : IGN_CREATED;
		cr_assert_eq(ign_state_write(dir, &st, NULL), 0);
	}
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) = 1", dir);
	cr_assert_eq(system(cmd), 0, "only state.json is left");
}

Test(state, lifecycle_rules)
{
	static const struct {
		enum ign_status status;
		enum ign_op op;
		int ok;
		const char *why;
	} rules[] = {
		{ IGN_CREATED, IGN_OP_START, 1, NULL },
		{ IGN_RUNNING, IGN_OP_START, 0, "an already running" },
		{ IGN_STOPPED, IGN_OP_START, 0, "a stopped" },
		{ IGN_CREATING, IGN_OP_START, 0, "a creating" },
		{ IGN_CREATED, IGN_OP_KILL, 1, NULL },
		{ IGN_RUNNING, IGN_OP_KILL, 1, NULL },
		{ IGN_STOPPED, IGN_OP_KILL, 0, "it is stopped" },
		{ IGN_RUNNING, IGN_OP_EXEC, 1, NULL },
		{ IGN_CREATED, IGN_OP_EXEC, 0, "it is created" },
		{ IGN_STOPPED, IGN_OP_EXEC, 0, "it is stopped" },
		{ IGN_CREATED, IGN_OP_RESET, 1, NULL },
		{ IGN_RUNNING, IGN_OP_RESET, 1, NULL },
		{ IGN_STOPPED, IGN_OP_RESET, 0, "cannot reset container `c1`: it is stopped" },
		{ IGN_CREATING, IGN_OP_RESET, 0, "it is creating" },
		{ IGN_STOPPED, IGN_OP_DELETE, 1, NULL },
		{ IGN_CREATED, IGN_OP_DELETE, 1, NULL },  /* runc deletes created ones */
		{ IGN_RUNNING, IGN_OP_DELETE, 0, "not stopped: running (use --force)" },
		{ IGN_CREATING, IGN_OP_DELETE, 0, "not stopped: creating" },
		{ IGN_RUNNING, IGN_OP_DELETE_FORCE, 1, NULL },
		{ IGN_CREATING, IGN_OP_DELETE_FORCE, 1, NULL },
	};
	struct ign_state st = sample();

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct ign_err err = { 0 };
		st.status = rules[i].status;
		int r = ign_state_allows(&st, rules[i].op, &err);
		cr_assert_eq(r == 0, rules[i].ok, "rule %zu: %s", i, err.msg);
		if (!rules[i].ok) {
			cr_assert(strstr(err.msg, rules[i].why), "rule %zu: `%s` lacks `%s`", i, err.msg,
				  rules[i].why);
			cr_assert(strstr(err.msg, "`c1`"), "rule %zu names the container: %s", i, err.msg);
		}
	}
}
