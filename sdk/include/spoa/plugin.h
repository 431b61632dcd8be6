/*
 * spoa-host plugin ABI, version 1.1.
 *
 * A plugin is a shared object that exports one symbol, spoa_plugin_entry_v1, and talks to
 * the host only through the function table it receives in init(). It never links against
 * the spoa-host executable, so a test can hand it a fake table.
 *
 * Rules that hold for the whole header:
 *  - C99, depends on <stddef.h> and <stdint.h> only. Nothing from C++ crosses it.
 *  - Every struct that may grow starts with `struct_size`; fields are only ever appended.
 *    A reader checks struct_size before touching a field added in a later minor version.
 *  - Strings are {ptr, len} views, not NUL-terminated unless a comment says so.
 *  - Enums name constants only; every signature carries them as int32_t, because in C++ an
 *    out-of-range enum value is undefined behaviour and C lets an enum's size vary
 *    (-fshort-enums). The host checks every value it receives.
 *  - Every item documents OWNERSHIP, LIFETIME, THREADS and RETURNS where they apply.
 *
 *  - Host functions never throw and never unwind into plugin frames: a failure inside the
 *    host comes back as SPOA_ERR_HOST_FAILURE.
 *
 * Changing a declaration in this file without changing SPOA_ABI_MAJOR / SPOA_ABI_MINOR fails
 * the test suite (sdk/abi/check-abi.cmake digests the header with its comments and
 * whitespace removed, so editing a comment is free; changing a token is not).
 *
 * From 1.1 on every change is append-only: new fields at the end of a struct that starts
 * with struct_size, new entries at the end of spoa_host_api, new constants. 1.1 was the last
 * release allowed to change a layout (spoa_value and spoa_arg gained reserved room, see
 * there); the host still runs plugins built against the 1.0 header (it tells them apart by
 * the descriptor's struct_size and passes them the 1.0 argument layout).
 */
#ifndef SPOA_PLUGIN_H
#define SPOA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Major: bumped on any incompatible change; the host refuses a plugin of another major.
 * Minor: bumped when something is appended. What the host checks is the minor a plugin
 * REQUIRES (spoa_plugin_descriptor.abi_minor), not the header that built it: a host of
 * minor H loads every plugin of the same major whose abi_minor <= H, whichever SDK compiled
 * it. A plugin that uses a newer entry only when host->struct_size covers it can require
 * less than the header it was built with. One exception, once: the 1.1 header changed the
 * size of spoa_value and spoa_arg, so a plugin built with it needs a host of 1.1 or later
 * even when it declares abi_minor 0 (no 1.0 host knows the new layout). */
#define SPOA_ABI_MAJOR 1
#define SPOA_ABI_MINOR 1

/* The exported entry symbol for this major. A future major 2 would export
 * spoa_plugin_entry_v2, so one .so can even serve two hosts. */
#define SPOA_PLUGIN_ENTRY_SYMBOL "spoa_plugin_entry_v1"

#if defined(_WIN32)
#define SPOA_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SPOA_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------------------ */
/* Views and values                                                                       */
/* ------------------------------------------------------------------------------------ */

/* A borrowed byte string.
 * OWNERSHIP: never owned by the receiver. LIFETIME: stated by whoever hands it over.
 * `ptr` may be NULL when `len` is 0. */
typedef struct spoa_str {
  const char* ptr;
  size_t len;
} spoa_str;

/* SPOP data types (spop.md §3); the numbers are the wire type ids. */
typedef enum spoa_type {
  SPOA_TYPE_NULL = 0,
  SPOA_TYPE_BOOL = 1,
  SPOA_TYPE_INT32 = 2,
  SPOA_TYPE_UINT32 = 3,
  SPOA_TYPE_INT64 = 4,
  SPOA_TYPE_UINT64 = 5,
  SPOA_TYPE_IPV4 = 6,
  SPOA_TYPE_IPV6 = 7,
  SPOA_TYPE_STRING = 8,
  SPOA_TYPE_BINARY = 9
} spoa_type;

/* One typed value: `type` says which union member is meaningful.
 *   NULL: none. BOOL: u.boolean (0 or 1). INT32: u.int32. UINT32: u.uint32.
 *   INT64: u.int64. UINT64: u.uint64. IPV4: u.ipv4, 4 bytes in network order.
 *   IPV6: u.ipv6, 16 bytes in network order. STRING, BINARY: u.bytes.
 * `flags` and `u.reserved` (1.1) are room for later minors: the host writes 0 there and
 * ignores what a plugin writes; a plugin zero-initialises the values it builds
 * (`spoa_value v = {0};`) and ignores bits it does not know.
 * OWNERSHIP: for values the host hands in (message arguments), u.bytes points into the
 * host's receive buffer and is borrowed; for values a plugin hands out (set_var), the host
 * copies everything before the call returns. */
typedef struct spoa_value {
  uint32_t type;  /* a spoa_type */
  uint32_t flags; /* 0 in 1.1 */
  union {
    int boolean;
    int32_t int32;
    uint32_t uint32;
    int64_t int64;
    uint64_t uint64;
    uint8_t ipv4[4];
    uint8_t ipv6[16];
    spoa_str bytes;
    uint64_t reserved[3]; /* sizes the union for later types; never read by the host */
  } u;
} spoa_value;

/* One argument of an SPOE message, in the order of the `args` line in spoe.conf.
 * An unnamed argument has an empty name (len 0). 64 bytes: `flags` and `reserved` (1.1)
 * are room for per-argument facts later minors may add (the host writes 0 there now).
 * LIFETIME: valid only during the handler call that receives it; copy what you keep.
 * (A plugin built against the 1.0 header receives the 1.0 layout, {name, value} with the
 * 24-byte 1.0 spoa_value, because that is what it was compiled to index.) */
typedef struct spoa_arg {
  spoa_str name;
  spoa_value value;
  uint32_t flags; /* 0 in 1.1 */
  uint32_t reserved32;
  uint64_t reserved;
} spoa_arg;

/* Variable scopes (spop.md §4); SET-VAR(scope, "name") reaches HAProxy as
 * <scope>.<var-prefix>.<name>. */
typedef enum spoa_scope {
  SPOA_SCOPE_PROC = 0,
  SPOA_SCOPE_SESS = 1,
  SPOA_SCOPE_TXN = 2,
  SPOA_SCOPE_REQ = 3,
  SPOA_SCOPE_RES = 4
} spoa_scope;

/* One key/value pair from the instance's [plugins.NAME.config] table, flattened:
 * nested tables become dotted keys, arrays comma-joined, numbers and booleans their TOML
 * text. Both views are NUL-terminated as a convenience (the NUL is not counted in len).
 * Kept for simple plugins; the whole typed tree (arrays of tables too) is host->config().
 * LIFETIME: valid during init() only. */
typedef struct spoa_config_entry {
  spoa_str key;
  spoa_str value;
} spoa_config_entry;

/* ------------------------------------------------------------------------------------ */
/* Structured instance config (1.1)                                                       */
/* ------------------------------------------------------------------------------------ */

/* Types of a config value, as TOML has them. A TOML date or time arrives as a STRING
 * holding its RFC 3339 text. */
typedef enum spoa_config_type {
  SPOA_CONFIG_STRING = 1,
  SPOA_CONFIG_INT = 2,
  SPOA_CONFIG_FLOAT = 3,
  SPOA_CONFIG_BOOL = 4,
  SPOA_CONFIG_ARRAY = 5,
  SPOA_CONFIG_TABLE = 6
} spoa_config_type;

typedef struct spoa_config_value spoa_config_value;

/* One key of a table, in file order. key is NUL-terminated (not counted in len). */
typedef struct spoa_config_member {
  spoa_str key;
  const spoa_config_value* value; /* never NULL */
} spoa_config_member;

/* One node of the [plugins.NAME.config] tree: plain data a plugin walks without calls.
 * `file`, `line` and `column` say where the value is written, so that a plugin's error
 * reads "FILE:LINE:COL: what is wrong" like the host's own (line/column 0: unknown).
 *   STRING: u.string (NUL-terminated, not counted in len). INT: u.integer. FLOAT:
 *   u.floating. BOOL: u.boolean (0 or 1). ARRAY: u.array.items[0..count) (elements may
 *   be of any type, tables too). TABLE: u.table.members[0..count), keys unique.
 * OWNERSHIP: host. LIFETIME: from init() until shutdown() has returned, unchanged (a
 *   reload gives the new instance a new tree). THREADS: read it from any thread.
 * Check struct_size before reading a field a later minor appends. */
struct spoa_config_value {
  size_t struct_size;
  int32_t type; /* a spoa_config_type */
  uint32_t line;
  uint32_t column;
  uint32_t reserved; /* 0 */
  spoa_str file;     /* NUL-terminated */
  union {
    spoa_str string;
    int64_t integer;
    double floating;
    int32_t boolean;
    struct {
      const spoa_config_value* const* items;
      size_t count;
    } array;
    struct {
      const spoa_config_member* members;
      size_t count;
    } table;
  } u;
};

/* The member `key` (NUL-terminated) of a TABLE value, or NULL when `table` is NULL, not a
 * table, or has no such key. A convenience over the data above; no host call. */
static inline const spoa_config_value* spoa_config_get(const spoa_config_value* table,
                                                       const char* key) {
  size_t i, n;
  if (table == NULL || key == NULL || table->type != SPOA_CONFIG_TABLE) return NULL;
  for (n = 0; key[n] != '\0'; ++n) {
  }
  for (i = 0; i < table->u.table.count; ++i) {
    const spoa_str k = table->u.table.members[i].key;
    size_t j = 0;
    if (k.len != n) continue;
    while (j < n && k.ptr[j] == key[j])
      ++j;
    if (j == n) return table->u.table.members[i].value;
  }
  return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Plugin metrics (1.1)                                                                   */
/* ------------------------------------------------------------------------------------ */

typedef enum spoa_metric_kind {
  SPOA_METRIC_COUNTER = 0,   /* a uint64 that only goes up: metric_add() */
  SPOA_METRIC_HISTOGRAM = 1, /* observations counted in buckets: metric_observe() */
  SPOA_METRIC_GAUGE = 2      /* a double that is set: metric_set() (entries loaded, the time
                                of the last successful load...) */
} spoa_metric_kind;

/* What define_metric() declares. Exported on the host's /metrics as the family
 * spoa_plugin_<name>, one series per instance and label values, with the label
 * plugin="<instance name>" first: two instances of one plugin share a family.
 *   name:        [a-z_][a-z0-9_]*, at most 64 bytes; prefix it with your plugin's name
 *                ("iprep_lookups_total") and end counters in _total, as Prometheus does.
 *   help:        one line of text (may be empty).
 *   label_names: nlabels names (at most 4), each [a-z_][a-z0-9_]*, at most 32 bytes, not
 *                "plugin" nor "le".
 *   max_series:  how many distinct label-value combinations this instance may create
 *                (0: 64; at most 1024). Past it metric_add/observe answer
 *                SPOA_ERR_TOO_BIG and the sample is dropped: a label fed from request
 *                data cannot grow /metrics without bound.
 *   buckets:     HISTOGRAM only: nbuckets strictly increasing finite upper bounds (at
 *                most 32; the host adds +Inf). NULL/0: 0.0005 0.001 0.0025 0.005 0.01
 *                0.025 0.05 0.1 0.25 0.5 1 2.5 (seconds, like the host's own).
 * OWNERSHIP: everything is copied by define_metric(). */
typedef struct spoa_metric_desc {
  size_t struct_size; /* sizeof(spoa_metric_desc) */
  int32_t kind;       /* a spoa_metric_kind */
  uint32_t max_series;
  spoa_str name;
  spoa_str help;
  const spoa_str* label_names;
  size_t nlabels;
  const double* buckets;
  size_t nbuckets;
} spoa_metric_desc;

/* A metric an instance defined. OWNERSHIP: host. LIFETIME: until the instance's
 * shutdown() has returned. Values survive a reload when the new instance of the same name
 * defines the same metric again (same kind, labels and buckets). */
typedef struct spoa_metric spoa_metric;

/* ------------------------------------------------------------------------------------ */
/* Request context (1.1)                                                                  */
/* ------------------------------------------------------------------------------------ */

/* Set in spoa_request_context.flags. */
#define SPOA_REQUEST_POOL                                            \
  1u /* the handler runs on a host pool thread (execution = "pool"): \
        it may block */

/* Facts about the NOTIFY a request belongs to, filled by host->request_context().
 *   stream_id, frame_id: of the NOTIFY frame (spop.md §6); HAProxy's stream and its
 *               n-th NOTIFY on it.
 *   deadline_ns: when the host answers HAProxy without this message's actions
 *               (timeouts.processing after the NOTIFY arrived), in CLOCK_MONOTONIC
 *               nanoseconds: compare with clock_gettime(CLOCK_MONOTONIC).
 *   engine_id:  the engine-id HAProxy sent in its HELLO (empty if none): which HAProxy
 *               process, or SPOE engine, the connection is from.
 *   peer:       the address of the HAProxy end of the connection, as the host's log lines
 *               write it ("127.0.0.1:43210", "[::1]:43210", "unix:/run/spoa.sock").
 *               It is HAProxy's address, not the client's: send the client's in args.
 * The views are NUL-terminated (not counted in len). */
typedef struct spoa_request_context {
  size_t struct_size; /* in: sizeof(spoa_request_context) as the plugin knows it */
  uint64_t stream_id;
  uint64_t frame_id;
  int64_t deadline_ns;
  uint32_t flags; /* SPOA_REQUEST_* bits */
  uint32_t reserved;
  spoa_str engine_id;
  spoa_str peer;
} spoa_request_context;

/* ------------------------------------------------------------------------------------ */
/* Status codes and results                                                               */
/* ------------------------------------------------------------------------------------ */

/* What every host function returns, as an int32_t (one set of codes for all, as
 * Proxy-Wasm does). */
typedef enum spoa_status {
  SPOA_OK = 0,
  SPOA_ERR_INVALID_ARGUMENT = 1, /* NULL where a value is required, bad scope or type */
  SPOA_ERR_BAD_NAME = 2,         /* empty, longer than 63 bytes, or outside [A-Za-z0-9_.] */
  SPOA_ERR_TOO_BIG = 3,          /* the actions would not fit in the negotiated frame size;
                                    (1.1) a metric past its max_series */
  SPOA_ERR_NOT_ALLOWED = 4,      /* wrong phase: e.g. register_message outside init(),
                                    set_var on a request that is sealed or stale */
  SPOA_ERR_DUPLICATE = 5,        /* message name registered twice in this instance; (1.1)
                                    a metric defined again with another shape */
  SPOA_ERR_NOT_CLAIMED = 6,      /* register_message for a name the config does not give
                                    to this instance */
  SPOA_ERR_HOST_FAILURE = 7      /* (1.1) the host failed inside the call (out of memory,
                                    an internal error): it had no effect, the host logged
                                    why, and the plugin may carry on */
} spoa_status;

/* What a message handler returns. */
typedef enum spoa_result {
  SPOA_DONE = 0,   /* finished: the actions set so far are the answer */
  SPOA_FAILED = 1, /* failed: this message contributes no actions; the host counts and logs
                      it with the instance name; the other messages of the NOTIFY still
                      contribute theirs */
  SPOA_PENDING = 2 /* not finished: the plugin will call complete() exactly once, from
                      any thread, possibly before the handler has even returned */
} spoa_result;

typedef enum spoa_log_level {
  SPOA_LOG_TRACE = 0,
  SPOA_LOG_DEBUG = 1,
  SPOA_LOG_INFO = 2,
  SPOA_LOG_WARN = 3,
  SPOA_LOG_ERROR = 4
} spoa_log_level;

/* ------------------------------------------------------------------------------------ */
/* Opaque handles                                                                         */
/* ------------------------------------------------------------------------------------ */

/* The host's record of one plugin instance ([plugins.NAME] in the config).
 * OWNERSHIP: host. LIFETIME: from init() until shutdown() has returned. */
typedef struct spoa_instance spoa_instance;

/* One message being answered: the target of set_var/unset_var and of complete().
 * A handle is an opaque value, not an address (never dereference it): a slot number and a
 * 44-bit generation, so a stale handle never reaches another request (a slot is reused
 * only after every other free slot, and its generation would need 1.7e13 reuses to wrap).
 * OWNERSHIP: host. LIFETIME: the request is SEALED the moment its handler returns DONE or
 * FAILED, the moment complete() is called after PENDING, or when the host abandons it
 * (processing deadline, connection gone, daemon stopping). Every set_var, unset_var or
 * complete on a sealed or stale request returns SPOA_ERR_NOT_ALLOWED and is logged with
 * the plugin and message names: never a crash, never a race, but a bug (except complete()
 * after an abandonment, which is expected and still required, see complete). */
typedef struct spoa_request spoa_request;

/* ------------------------------------------------------------------------------------ */
/* Message handler                                                                        */
/* ------------------------------------------------------------------------------------ */

/* Called once per occurrence of a registered message in a NOTIFY.
 *   user:    the pointer given to register_message.
 *   request: where to put actions; see spoa_request.
 *   message: the message name. args/nargs: its arguments (nargs may be 0, args then NULL).
 * LIFETIME: message and args are valid only during this call, even after PENDING.
 * THREADS: with execution = "inline" (the default): called concurrently on every I/O
 *   thread; must not block (a call slower than 10 ms is logged and counted as a stall).
 *   Slow work goes to the plugin's own threads, returning PENDING.
 *   With execution = "pool" ([plugins.NAME] pool_threads, pool_queue): called on one of the
 *   host's pool threads for this instance; may block, and may simply return DONE. The
 *   host answers HAProxy at the processing deadline whatever the handler does (a late
 *   answer is dropped); host->request_abandoned() tells a blocking handler to give up.
 * RETURNS: a spoa_result value. Any other value is treated as SPOA_FAILED. A C++ plugin must not
 *   let an exception escape (plugin.hpp catches them for you). */
typedef int32_t (*spoa_message_handler)(void* user, spoa_request* request, spoa_str message,
                                        const spoa_arg* args, size_t nargs);

/* ------------------------------------------------------------------------------------ */
/* Host function table                                                                    */
/* ------------------------------------------------------------------------------------ */

/* Handed to init(). Append-only: a plugin built against minor N may use the entries of
 * minor N when host->struct_size covers them.
 * OWNERSHIP: host. LIFETIME: valid until the plugin's shutdown() has returned. */
typedef struct spoa_host_api {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;

  /* Writes one log line tagged with the instance name.
   * THREADS: any thread, any time between init() and the end of shutdown().
   * OWNERSHIP: the text is copied. Never fails (a line that cannot be written is dropped). */
  void (*log)(spoa_instance* instance, int32_t level /* spoa_log_level */, spoa_str text);

  /* Claims a message name: the handler will be called for it. Only names the config's
   * `messages` list gives to this instance can be claimed (else SPOA_ERR_NOT_CLAIMED).
   * THREADS: only during init(), on the thread that called it.
   * OWNERSHIP: name is copied; `user` stays the plugin's and is passed back verbatim.
   * RETURNS: SPOA_OK, SPOA_ERR_NOT_ALLOWED (outside init), SPOA_ERR_DUPLICATE,
   *   SPOA_ERR_NOT_CLAIMED, SPOA_ERR_INVALID_ARGUMENT (NULL handler),
   *   SPOA_ERR_HOST_FAILURE. */
  int32_t (*register_message)(spoa_instance* instance, spoa_str name, spoa_message_handler handler,
                              void* user);

  /* Adds a SET-VAR action to the request's answer. A NULL-typed value becomes UNSET-VAR
   * in HAProxy (spop.md §4). The name is without scope and prefix: "score" arrives in
   * HAProxy as txn.<var-prefix>.score. HAProxy silently ignores a variable whose full
   * name "<scope>.<var-prefix>.<name>" is over 63 bytes (spop.md §9), and the host cannot
   * see the prefix (it is in HAProxy's spoe.conf), so the 63 bytes accepted here are an
   * upper bound only: with prefix "spoa", 54 bytes arrive in scope txn, 53 in sess. The
   * host warns (once per instance and name, and in --test) when a name would not fit with
   * an 8-byte prefix; sdk/README.md "Variable names" has the table.
   * THREADS: the thread running the handler, or after PENDING any one thread at a time,
   *   until complete().
   * OWNERSHIP: name and value (including its bytes) are copied before return.
   * RETURNS: SPOA_OK; SPOA_ERR_BAD_NAME; SPOA_ERR_INVALID_ARGUMENT (scope or type out of
   *   range, NULL value); SPOA_ERR_TOO_BIG (this message's actions would exceed the
   *   negotiated frame size: the action is dropped, earlier ones stay);
   *   SPOA_ERR_NOT_ALLOWED (request sealed or stale: logged with plugin and message);
   *   SPOA_ERR_HOST_FAILURE. */
  int32_t (*set_var)(spoa_request* request, int32_t scope /* spoa_scope */, spoa_str name,
                     const spoa_value* value);

  /* Adds an UNSET-VAR action. Same THREADS, OWNERSHIP and RETURNS as set_var. */
  int32_t (*unset_var)(spoa_request* request, int32_t scope /* spoa_scope */, spoa_str name);

  /* Finishes a request whose handler returned (or is about to return) PENDING.
   * `result` is SPOA_DONE or SPOA_FAILED; any other value counts as SPOA_FAILED. Call it
   * exactly once after PENDING, even when the host abandoned the request meanwhile (that
   * call returns SPOA_ERR_NOT_ALLOWED, is logged at info level, and frees the handle).
   * A second call, or a call for a request whose handler returned DONE or FAILED, returns
   * SPOA_ERR_NOT_ALLOWED and is logged as a warning naming the plugin and message.
   * THREADS: any thread. After it returns the request handle must not be used again.
   * RETURNS: SPOA_OK; SPOA_ERR_NOT_ALLOWED (sealed: abandoned, already completed, or
   *   stale); SPOA_ERR_HOST_FAILURE. */
  int32_t (*complete)(spoa_request* request, int32_t result /* spoa_result */);

  /* The message names the config maps to this instance (its `messages` list), so a plugin
   * can claim exactly those without the operator writing them twice. Writes up to
   * `capacity` views into `names` and returns how many there are in all (call with
   * capacity 0 to count).
   * THREADS: any thread. OWNERSHIP: the views point into the host's copy of the config.
   * LIFETIME: valid until shutdown() returns. RETURNS: the count; 0 for a NULL instance. */
  size_t (*claimed_messages)(spoa_instance* instance, spoa_str* names, size_t capacity);

  /* ---- 1.1: check host->struct_size covers an entry before calling it ---------------- */

  /* The instance's name (the NAME of [plugins.NAME]), NUL-terminated.
   * THREADS: any thread. OWNERSHIP: host. LIFETIME: until shutdown() returns.
   * RETURNS: the name; an empty view for a NULL instance. */
  spoa_str (*instance_name)(spoa_instance* instance);

  /* The instance's [plugins.NAME.config] table as a typed tree (see spoa_config_value):
   * nested tables, arrays of tables, strings, integers, floats, booleans.
   * THREADS: any thread. OWNERSHIP: host. LIFETIME: until shutdown() returns.
   * RETURNS: a TABLE value, empty when the config has no such table; NULL only for a NULL
   *   instance. */
  const spoa_config_value* (*config)(spoa_instance* instance);

  /* Fills `context` with the facts of the request's NOTIFY (see spoa_request_context).
   * Set context->struct_size first; the host fills the fields both sizes cover.
   * THREADS: only during the handler call, on its thread (inline or pool).
   * LIFETIME: the views are valid until the handler returns; copy what you keep.
   * RETURNS: SPOA_OK; SPOA_ERR_INVALID_ARGUMENT (NULL context or struct_size too small
   *   for stream_id); SPOA_ERR_NOT_ALLOWED (the handler returned, or a stale handle). */
  int32_t (*request_context)(spoa_request* request, spoa_request_context* context);

  /* Whether the host still wants this request's answer. A blocking pool handler or a
   * plugin thread working for a PENDING request polls it to stop work nobody waits for.
   * THREADS: any thread, as long as the plugin holds the handle (until complete()).
   * RETURNS: 1 when the request is abandoned (deadline passed, connection closed, daemon
   *   stopping) or the handle is stale; 0 while an answer is still wanted. */
  int32_t (*request_abandoned)(spoa_request* request);

  /* Registers `callback`, called once with (user, request) if the host abandons the
   * request before the plugin completes it: to cancel an outstanding lookup instead of
   * polling. Registering again replaces the callback.
   * THREADS: call it from the handler or from the thread holding a PENDING request. The
   *   callback runs on one of the host's I/O threads, possibly while a pool handler or the
   *   plugin's own threads still work on the request; it must not block. It may call
   *   complete() (which answers SPOA_ERR_NOT_ALLOWED, the request being abandoned, and
   *   frees the handle) but need not: the plugin's usual complete() is still due once.
   *   It is never called after complete() returned, nor after the handler returned DONE
   *   or FAILED.
   * OWNERSHIP: `user` stays the plugin's.
   * RETURNS: SPOA_OK; SPOA_ERR_INVALID_ARGUMENT (NULL callback); SPOA_ERR_NOT_ALLOWED
   *   (already sealed: abandoned or completed; the callback will not be called). */
  int32_t (*on_abandon)(spoa_request* request, void (*callback)(void* user, spoa_request* request),
                        void* user);

  /* Defines a counter or histogram for this instance (see spoa_metric_desc) and writes its
   * handle to *metric.
   * THREADS: only during init(), on the thread that called it.
   * RETURNS: SPOA_OK; SPOA_ERR_INVALID_ARGUMENT (bad kind, buckets, max_series, NULL
   *   pointers); SPOA_ERR_BAD_NAME (metric or label name); SPOA_ERR_DUPLICATE (this
   *   instance defined that name already, or another instance defined it with another
   *   kind, labels or buckets); SPOA_ERR_NOT_ALLOWED (outside init);
   *   SPOA_ERR_HOST_FAILURE. */
  int32_t (*define_metric)(spoa_instance* instance, const spoa_metric_desc* desc,
                           spoa_metric** metric);

  /* Adds `delta` to the COUNTER series of these label values (nlabels must equal the
   * definition's; each value at most 128 bytes, any bytes, escaped on /metrics).
   * THREADS: any thread, concurrently; lock-free once the series exists.
   * OWNERSHIP: label values are copied when they create a series.
   * RETURNS: SPOA_OK; SPOA_ERR_INVALID_ARGUMENT (wrong kind, label count, NULL);
   *   SPOA_ERR_TOO_BIG (a new series past max_series: dropped, logged once). */
  int32_t (*metric_add)(spoa_metric* metric, const spoa_str* label_values, size_t nlabels,
                        uint64_t delta);

  /* Records `value` in the HISTOGRAM series of these label values. Same THREADS,
   * OWNERSHIP and RETURNS as metric_add (a NaN value is SPOA_ERR_INVALID_ARGUMENT). */
  int32_t (*metric_observe)(spoa_metric* metric, const spoa_str* label_values, size_t nlabels,
                            double value);

  /* Sets the GAUGE series of these label values to `value` (the last set wins). Same
   * THREADS, OWNERSHIP and RETURNS as metric_add (NaN is SPOA_ERR_INVALID_ARGUMENT). */
  int32_t (*metric_set)(spoa_metric* metric, const spoa_str* label_values, size_t nlabels,
                        double value);
} spoa_host_api;

/* ------------------------------------------------------------------------------------ */
/* Plugin descriptor and entry point                                                      */
/* ------------------------------------------------------------------------------------ */

/* Starts one instance. Called once per [plugins.NAME] that names this file, on the main
 * thread, before any handler runs; several instances of one .so get separate calls.
 *   host:     the function table (keep the pointer; valid until shutdown returns).
 *   instance: the host's handle for log() and register_message().
 *   config, nconfig: the instance's settings (valid during this call only).
 *   state:    out: the plugin's per-instance pointer, handed back to shutdown().
 *   error, error_size: out: on failure, write a NUL-terminated reason here. The host
 *             reports it as "CONFIG:LINE:COL: plugins.NAME: PLUGIN.so: init failed: reason"
 *             (at the instance's `path` line), on stderr at start and with --check-config,
 *             in the log on a reload.
 * THREADS: the thread building the generation: the main thread at start, a reload thread
 *   on SIGHUP (never an I/O thread), while the previous generation keeps serving.
 * RETURNS: 0 on success, non-zero on failure (the instance is not started and shutdown()
 *   is not called for it). A C++ exception escaping init() is caught by the host and
 *   counts as a failure with its what() as the reason; so is one from the entry symbol
 *   or shutdown() (logged). */
typedef int (*spoa_init_fn)(const spoa_host_api* host, spoa_instance* instance,
                            const spoa_config_entry* config, size_t nconfig, void** state,
                            char* error, size_t error_size);

/* Stops one instance: called once, after no handler of this instance runs any more (pool
 * threads joined) and before the .so is unloaded; instances stop in reverse start order.
 * THREADS: whichever host thread drops the last reference to the generation (the main
 * thread at exit, an I/O or reload thread after a reload).
 * The plugin must have finished (or must give up) its pending requests: after shutdown
 * returns it must not call any host function, and its own threads must be joined.
 * Optional (may be NULL). */
typedef void (*spoa_shutdown_fn)(void* state);

/* Returned by the entry symbol.
 * OWNERSHIP: plugin (usually a static object). LIFETIME: until the .so is unloaded.
 * name and version are NUL-terminated.
 * struct_size tells the host which header built the plugin (1.0: 48 bytes; 1.1 appended
 * sdk_minor and reserved), hence which layout of spoa_arg to hand it. */
typedef struct spoa_plugin_descriptor {
  size_t struct_size; /* sizeof(spoa_plugin_descriptor) as the plugin was built */
  uint32_t abi_major; /* SPOA_ABI_MAJOR as the plugin was built */
  uint32_t abi_minor; /* the oldest host minor this plugin works with: the minor of the
                         newest table entry or field it uses without checking struct_size.
                         SPOA_ABI_MINOR requires everything in this header. The host
                         refuses a plugin whose abi_minor is above its own. */
  const char* name;
  const char* version;
  spoa_init_fn init;         /* required */
  spoa_shutdown_fn shutdown; /* optional */
  /* 1.1 */
  uint32_t sdk_minor; /* SPOA_ABI_MINOR of the header the plugin was compiled with
                         (informational: logged at load); 0 if left unset */
  uint32_t reserved;  /* 0 */
} spoa_plugin_descriptor;

/* A whole descriptor for this header, as a static initializer (C and C++):
 *   static const spoa_plugin_descriptor descriptor =
 *       SPOA_PLUGIN_DESCRIPTOR_INIT(0, "my-plugin", "1.0.0", my_init, my_shutdown);
 * `required_minor` is abi_minor above: 0 when the plugin checks host->struct_size before
 * each 1.1 entry it calls, SPOA_ABI_MINOR to require them all. (A positional initializer
 * written for 1.0 still compiles, with -Wmissing-field-initializers warnings.) */
#define SPOA_PLUGIN_DESCRIPTOR_INIT(required_minor, name, version, init, shutdown)               \
  {                                                                                              \
    sizeof(spoa_plugin_descriptor), SPOA_ABI_MAJOR, (required_minor), (name), (version), (init), \
        (shutdown), SPOA_ABI_MINOR, 0                                                            \
  }

/* The entry symbol every plugin exports (C linkage). Called once after dlopen.
 * THREADS: main thread. RETURNS: a descriptor, never NULL. */
typedef const spoa_plugin_descriptor* (*spoa_plugin_entry_fn)(void);

/* Declared here so the compiler checks each plugin's definition against it. */
SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* SPOA_PLUGIN_H */
