/*
 * limits.h - every bound chronos puts on input and state, in one place, each
 * with the reason for its value.  Code refers to these names, never to bare
 * numbers, so a limit can be found, argued about and changed once.
 */
#ifndef CHR_LIMITS_H
#define CHR_LIMITS_H

/* Longest schedule expression accepted (ISO 8601 interval or cron line).  The
 * longest sensible ISO form is under 80 bytes; cron lists of every value of
 * every field stay under 400. */
#define CHR_SCHEDULE_LEN_MAX 512

/* Longest IANA zone name.  The longest in tzdata is 32 bytes
 * (America/Argentina/ComodRivadavia); room for local additions. */
#define CHR_TZ_NAME_LEN_MAX 64

/* Largest TZif file read.  The biggest in tzdata is under 4 KiB (fat); 64 KiB
 * leaves room for odd local builds and bounds what a bad file costs. */
#define CHR_TZ_FILE_MAX (64 * 1024)

/* Most transitions and local time types kept per zone (bounded by the file
 * size anyway; named so that the parser checks counts before allocating). */
#define CHR_TZ_TRANSITIONS_MAX 4096
#define CHR_TZ_TYPES_MAX 256

/* Most zones a process keeps loaded: every zone of tzdata is ~600. */
#define CHR_TZ_ZONES_MAX 2048

/* `chronos next --count` and the json-lines "count": a preview, not a dump. */
#define CHR_NEXT_COUNT_MAX 10000

/* One line of `chronos next --json-lines` input. */
#define CHR_JSON_LINE_MAX 8192

/* A cron expression whose next firing is further than this many years away is
 * refused at validation ("can never fire").  The Gregorian calendar repeats
 * every 400 years, so a search of 400 years decides it. */
#define CHR_CRON_SEARCH_YEARS 400

/* ---- Jobs (scheduler/job.h) -------------------------------------------- */

/* Most bytes of one job's JSON accepted from a client.  A typical Chronos job
 * is ~600 bytes; 64 KiB leaves room for long commands and env lists while
 * keeping every znode far below ZooKeeper's 1 MiB. */
#define CHR_JOB_JSON_MAX (64 * 1024)
/* A command line (the shell's ARG_MAX is 2 MiB; a job is not a script store). */
#define CHR_JOB_COMMAND_MAX (16 * 1024)
/* Short text fields: owner, description, zone, user, executor... */
#define CHR_JOB_TEXT_MAX 4096
/* Parents of one dependent job; arguments; environment variables. */
#define CHR_JOB_PARENTS_MAX 100
#define CHR_JOB_ARGUMENTS_MAX 256
#define CHR_JOB_ENV_MAX 256
/* Entries of a job's notifyEvents: there are nine events; a list may name
 * one twice, but a longer one is a mistake. */
#define CHR_JOB_NOTIFY_EVENTS_MAX 32
/* Retries after a failure: beyond 100 a job is broken, not flaky. */
#define CHR_JOB_RETRIES_MAX 100
/* The earliest start of a job's ISO schedule: Chronos refuses starts before
 * 1970-01-01T00:00:01Z, so old clients never sent one. */
#define CHR_JOB_START_MIN_MS 1000
/* Retry delay bounds: a minute by default, at most a day. */
#define CHR_JOB_RETRY_DELAY_MS_MAX (24LL * 3600 * 1000)
/* With retryBackoff the delay doubles per attempt up to an hour. */
#define CHR_JOB_RETRY_BACKOFF_CAP_MS (3600LL * 1000)
/* Resources: cpus, mem and disk (MB) a job may ask for. */
#define CHR_JOB_CPUS_MAX 1024.0
#define CHR_JOB_MEM_MB_MAX (16.0 * 1024 * 1024)
#define CHR_JOB_DISK_MB_MAX (1024.0 * 1024 * 1024)
/* Array fields kept as JSON text: constraints, fetch entries (and uris), and
 * each list inside container (volumes, parameters, networkInfos).  Real jobs
 * carry a handful; the bound keeps validation linear in something small. */
#define CHR_JOB_CONSTRAINTS_MAX 64
/* A constraint's attribute name and value, in bytes: as long as an agent
 * attribute's name and value can be (offers/mesos/types.h, 128 and 256 with
 * the NUL), so an EQUALS that could never match a real attribute is refused.
 * A LIKE/UNLIKE value is a regular expression of that length. */
#define CHR_CONSTRAINT_ATTR_MAX 127
#define CHR_CONSTRAINT_VALUE_MAX 255
/* A LIKE/UNLIKE pattern's size once its bounded repetitions are expanded
 * (atoms, each {m,n} multiplying what it repeats by n).  regcomp copies the
 * repeated part per count, so (a{0,255}){0,255} takes seconds and hundreds
 * of MB to compile, and glibc's regexec costs about size x text length:
 * at 256, ~10 ms for a 255-byte value, the worst; a real attribute pattern
 * is a few dozen atoms and matches in microseconds. */
#define CHR_CONSTRAINT_REGEX_SIZE_MAX 256
/* Groups nested in one pattern (the size count keeps a frame per level). */
#define CHR_CONSTRAINT_REGEX_DEPTH_MAX 32
#define CHR_JOB_FETCH_MAX 64
#define CHR_JOB_CONTAINER_LIST_MAX 64
/* An environment variable's name (values are CHR_JOB_TEXT_MAX).  Kernels take
 * any length, but a name this long is a mistake. */
#define CHR_JOB_ENV_NAME_MAX 256
/* maxCompletionTime and startingDeadlineSeconds, in seconds: a century.
 * Anything longer is a typo, and the bound keeps seconds * 1000 far from
 * int64 overflow. */
#define CHR_JOB_DURATION_S_MAX (100LL * 366 * 24 * 3600)

/* ---- The core (scheduler/core.h) ---------------------------------------- */

/* Ledger entries (ranges of instants not launched) kept per job. */
#define CHR_LEDGER_MAX 32
/* Jobs in one registry: the default cap (--max_jobs) holds a million with
 * room to spare (issue 18: a million jobs held by one server), and the most
 * --max_jobs may say, which the sharded tree and memory still take (a
 * million jobs need ~2 GiB here).  A cap reached refuses the POST with a 400
 * naming the setting: input is never unbounded. */
#define CHR_JOBS_DEFAULT 2000000
#define CHR_JOBS_MAX 10000000
/* Jobs with series of their own in /metrics (Prometheus text): each adds 5
 * series, and a scrape of a million jobs would be 5 million; the rest are
 * counted in chronos_metrics_jobs_omitted. */
#define CHR_METRICS_JOBS_MAX 1000
/* Active runs (recorded, queued, launching, running) across all jobs. */
#define CHR_RUNS_ACTIVE_MAX 100000
/* Actions one step may emit before it defers work to the next step. */
#define CHR_STEP_ACTIONS_MAX 4096
/* A forced delete (?force=true) rewrites the parent's children and deletes
 * the parent in one atomic store batch, so they must fit one: at most this
 * many children (2 ops each, of CHR_STORE_BATCH_OPS_MAX), and their job and
 * state nodes at most CHR_DELETE_FORCE_BYTES_MAX by the core's bound of
 * their text (the rest of a batch is the parent's deletion: its nodes, runs
 * and notification).  More is refused with a 400 that says so. */
#define CHR_DELETE_FORCE_CHILDREN_MAX 256
#define CHR_DELETE_FORCE_BYTES_MAX (CHR_STORE_BATCH_BYTES_MAX - 192 * 1024)


/* ---- Store (zkstore/store.h) -------------------------------------------- */
/* Guarded on its own: this section may sit outside the file's main guard. */

/* Bytes of one whole multi-op batch (data + path + 16 bytes of framing per
 * op), and of data in one node.  ZooKeeper refuses any request packet larger
 * than jute.maxbuffer (1,048,575 bytes by default) by dropping the
 * connection, which looks like a connection loss, not an error; a
 * batch becomes one zoo_multi packet.  1 MiB - 64 KiB leaves room for
 * the packet and multi headers, so whatever the local backend accepts
 * ZooKeeper accepts too.  A node gets 64 KiB less again, so that a single
 * op of the largest node with the longest path still fits one batch.  A job
 * is ~600 bytes and at most CHR_JOB_JSON_MAX (64 KiB). */
#define CHR_STORE_BATCH_BYTES_MAX (1024 * 1024 - 64 * 1024)
#define CHR_STORE_NODE_MAX (1024 * 1024 - 128 * 1024)
/* Nodes one shard's pack (zkstore/pack.h) may span: 64 of ~896 KiB hold a
 * shard of ~95,000 jobs of 600 bytes, 24 million jobs in all, far past
 * CHR_JOBS_MAX_LIMIT; a load reads them 16 shards at a time. */
#define CHR_PACK_PARTS_MAX 64

/* Bytes of a path including its terminating NUL: a root of up to
 * CHR_STORE_ROOT_MAX, "/ledger/ff/" and a component of CHR_STORE_NAME_MAX fit
 * with room to spare. */
#define CHR_STORE_PATH_MAX 1024
#define CHR_STORE_ROOT_MAX 256

/* Bytes of one path component (an encoded name): NAME_MAX of Linux file
 * systems, so a component can always become a file name.  Any valid job name
 * (<= 200 bytes) encodes to at most 202; any byte string of up to 85 bytes
 * fits. */
#define CHR_STORE_NAME_MAX 255

/* Ops in one batch.  ZooKeeper bounds a multi by bytes only; a count bound
 * keeps a batch's bookkeeping small and evaluation time short. */
#define CHR_STORE_BATCH_OPS_MAX 1024

/* Children returned by one listing.  The shard scheme keeps a directory near
 * jobs/256 (4,000 at a million jobs); 65,536 names of ~20 bytes stay near the
 * 1 MiB reply that Java ZooKeeper clients can still read. */
#define CHR_STORE_CHILDREN_MAX 65536

/* Nodes in the whole tree: the most jobs a registry may hold, each with its
 * state, the open runs and the directories.  Every node lives in memory (as
 * in ZooKeeper itself), about 150 bytes of bookkeeping plus its data; the
 * registry's cap (--max_jobs) is the bound that matters, and a store that
 * refused a node below it would fail the scheduler (a failed batch). */
#define CHR_STORE_NODES_MAX (2 * CHR_JOBS_MAX + CHR_RUNS_ACTIVE_MAX + 65536)

/* Batches waiting for the commit thread, and their bytes; beyond either,
 * chr_store_submit answers CHR_EUNAVAIL at once rather than block its caller
 * (the scheduler thread must never wait on a disk).  4,096 batches are more
 * than 10 ms of the measured group-commit rate. */
#define CHR_STORE_QUEUE_MAX 4096
#define CHR_STORE_QUEUE_BYTES_MAX (64 * 1024 * 1024)

/* One group commit (one write + one fdatasync) takes at most this many ops
 * and bytes of queued batches: bounds the commit buffer, the evaluation
 * table and how long one fsync makes the first batch of a group wait. */
#define CHR_STORE_GROUP_OPS_MAX 65536
#define CHR_STORE_GROUP_BYTES_MAX (8 * 1024 * 1024)

/* The local backend writes a snapshot and starts a new log once the current
 * log holds this many bytes, or more bytes than the live data if that is
 * larger (so the snapshot's write amplification stays <= 2x).  64 MiB
 * replays in well under a second and is ~250,000 job updates. */
#define CHR_STORE_CHECKPOINT_BYTES (64 * 1024 * 1024)


/* ---- Local runs (offers/local.h) ---------------------------------------- */


/* A run id names the run's directory: at most NAME_MAX (255) bytes.  The
 * core's ids ("ct:<due>:<attempt>:<job>") are at most 248. */
#define CHR_LOCAL_RUN_ID_MAX 255

/* Runs one local manager supervises at once.  Each holds a pidfd (and a pipe
 * until it runs), so this also bounds the server's descriptors; with the
 * default 0.1 cpu per run a 2-core host fits 20. */
#define CHR_LOCAL_RUNS_MAX 4096

/* Runs one supervisor process supervises (the runs the server launches in
 * one step, in groups of at most this many): its exec and its records'
 * syncfs are shared by them, and its poll set (two pipes a run) and its
 * descriptors (seven a run) stay small. */
#define CHR_LOCAL_GROUP_MAX 64
/* A group supervisor sets up, records durably and lets exec this many runs
 * at a time. */
#define CHR_LOCAL_GROUP_CHUNK 16
/* The first group of a scheduler step (it doubles up to the max): the first
 * runs of a burst start before a whole group is set up. */
#define CHR_LOCAL_GROUP_FIRST 8

/* The stack a task's process runs on between its clone and its exec (a few
 * system calls and exec's PATH search, one PATH_MAX buffer). */
#define CHR_LOCAL_TASK_STACK (64 * 1024)

/* Largest spec file (command, arguments and environment of one run): a job's
 * JSON is at most CHR_JOB_JSON_MAX, the built-in variables add < 1 KiB, and
 * JSON escaping can at worst multiply bytes by 6. */
#define CHR_LOCAL_SPEC_MAX (6 * CHR_JOB_JSON_MAX + 4096)

/* Largest claim, pid or exit record: a few numbers and a reason line. */
#define CHR_LOCAL_RECORD_MAX 4096

/* Bytes of stdout (and, separately, of stderr) kept per run by default, and
 * the most a task spec may ask for: logs must not fill the disk that holds
 * the run directories. */
#define CHR_LOCAL_OUTPUT_DEFAULT (10 * 1024 * 1024)
#define CHR_LOCAL_OUTPUT_MAX (1024LL * 1024 * 1024)
/* A run's stdout or stderr read back from a Mesos agent's sandbox (held in
 * memory while it is served): the head of a larger file is served. */
#define CHR_MESOS_OUTPUT_MAX (64LL * 1024 * 1024)

/* When output passes its cap, the last bytes are still kept (appended after a
 * note at the end of the run): the error that ends a chatty run is there. */
#define CHR_LOCAL_OUTPUT_TAIL 4096

/* SIGTERM to SIGKILL on a kill or an exceeded maxCompletionTime, by default:
 * Mesos's executor shutdown grace period. */
#define CHR_LOCAL_KILL_GRACE_MS 5000

/* After the task ends (and every process left of it is killed) the
 * supervisor reads output still held open elsewhere (a descriptor passed to a
 * process outside the run) for at most this long, then records the outcome. */
#define CHR_LOCAL_DRAIN_MS 1000

/* Processes and threads one run may have at once (its cgroup's pids.max):
 * a fork bomb stops there instead of taking the host, and a kill's sweep
 * always catches up with it. */
#define CHR_LOCAL_TASK_PIDS_MAX 4096

/* A cgroup directory (mount point, the supervisor's own path, the run's
 * name); cgroup trees are shallow. */
#define CHR_LOCAL_CG_PATH_MAX 1024

/* /proc/self/mountinfo read whole to find the cgroup mounts. */
#define CHR_LOCAL_MOUNTINFO_MAX (1024 * 1024)

/* How often the server looks again at a re-attached run whose supervisor has
 * claimed it but not yet written the task's pid (a window of a millisecond
 * that only a restart at that moment can see). */
#define CHR_LOCAL_STARTING_POLL_MS 50

/* How often, and for how many runs at a time, the server looks for the exit
 * record of a run it re-attached to (after a restart it has no notify pipe
 * from the run's supervisor, which may supervise other runs too and so does
 * not exit with this one). */
#define CHR_LOCAL_EXIT_POLL_MS 500
#define CHR_LOCAL_EXIT_POLL_MAX 256

/* Finished run directories kept per job after collect (Chronos keeps the last
 * 5 runs of a job: --job_history_limit). */
#define CHR_LOCAL_KEEP_DONE_DEFAULT 5
#define CHR_LOCAL_KEEP_DONE_MAX 1000

/* How far ahead of its not_before_ms a run may be launched.  The core leads
 * by about 200 ms; a run held much longer only holds its resources idle, so
 * more is a caller's bug. */
#define CHR_LOCAL_LEAD_MAX_MS 60000
/* A container's name (local_container.c): docker and podman take long
 * names, but a short one reads in `podman ps`; the run id is cut to fit. */
#define CHR_LOCAL_CTR_NAME_MAX 128
/* An image reference: Docker's own limit on a repository name is 255. */
#define CHR_LOCAL_CTR_IMAGE_MAX 255
/* A volume's path, as the kernel's PATH_MAX. */
#define CHR_LOCAL_CTR_PATH_MAX 4096
/* How long the supervisor waits for `<runtime> kill` or `rm` before it
 * gives up on it (a runtime that hangs must not hold the run forever). */
#define CHR_LOCAL_CTR_CTL_MS 30000


/* ---- ZooKeeper ---------------------------------------------------------- */

/* Bounds of the ZooKeeper configuration.  A connect
 * string names a few servers; 1 KiB holds 40 "host:port" of 25 bytes. */
#define CHR_ZK_HOSTS_MAX 1024
#define CHR_ZK_HOST_COUNT_MAX 64
/* "user:password" of digest auth. */
#define CHR_ZK_AUTH_MAX 256
/* Least time between two routine resolutions of the servers' host names by
 * the ZooKeeper client (zoo_set_servers_resolution_delay); a connection loss
 * resolves them again at once.  The client's default, every socket poll,
 * spent half the CPU of a pipelined load in getaddrinfo. */
#define CHR_ZK_RESOLVE_DELAY_MS 30000
/* A candidate's id ("host:port"), stored as its election node's data. */
#define CHR_ZK_ID_MAX 255
/* ZooKeeper's jute.maxbuffer default (0xfffff): a request packet larger than
 * this makes the server drop the connection. */
#define CHR_ZK_PACKET_MAX 1048575
/* "digest" ACL id: "user:" + base64(SHA-1) (28 characters). */
#define CHR_ZK_DIGEST_ID_MAX (CHR_ZK_AUTH_MAX + 32)
/* Longest --mesos_master accepted: a few ensemble members and a path. */
#define CHR_MESOS_MASTER_URL_MAX 1024
/* ZooKeeper servers in one zk:// URL (ensembles have 3, 5 or 7). */
#define CHR_MESOS_MASTER_HOSTS_MAX 16
/* Room for a "host:port" answer, NUL included: a DNS name (253), brackets
 * around an IPv6 address, ':' and five digits. */
#define CHR_MESOS_MASTER_HOSTPORT_MAX 264
/* Largest MasterInfo read from ZooKeeper (real ones are under 2 KiB). */
#define CHR_MESOS_MASTER_INFO_MAX (64 * 1024)

/* ---- The standby proxy --------------------------------------------------- */

/* Requests forwarded at once (streams included) by default; more get 503. */
#define CHR_PROXY_REQUESTS_MAX 256
/* Largest answer read whole (a job list of 100k jobs is ~60 MiB). */
#define CHR_PROXY_ANSWER_MAX (64 * 1024 * 1024)
/* Bytes of a streamed answer held between the leader and the client. */
#define CHR_PROXY_STREAM_WINDOW (256 * 1024)

/* ---- The dashboard (api/dash.c, api/assets.c) --------------------------- */

/* Job changes the read model remembers for the dashboard's polls (a cursor
 * older than these gets "reset" and reloads its page): a minute of a busy
 * server's changes between two polls, ~1 MB of names at most. */
#define CHR_VIEW_CHANGES_MAX 4096
/* Rows one page of the dashboard's job list may ask for. */
#define CHR_DASH_PAGE_MAX 1000
/* Longest search text and owner filter of the job list. */
#define CHR_DASH_QUERY_MAX 256
/* The embedded dashboard, all files (a build script refuses more). */
#define CHR_DASH_ASSETS_BYTES_MAX (4 * 1024 * 1024)

#endif
