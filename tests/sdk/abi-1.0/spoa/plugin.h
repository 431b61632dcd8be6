/*
 * spoa-host plugin ABI, version 1.0.
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
 * Changing anything in this file without changing SPOA_ABI_MAJOR / SPOA_ABI_MINOR fails the
 * test suite (tests/sdk checks a digest of the header against the version below).
 */
#ifndef SPOA_PLUGIN_H
#define SPOA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Major: bumped on any incompatible change; the host refuses a plugin of another major.
 * Minor: bumped when something is appended; the host refuses a plugin built against a newer
 * minor than its own (the plugin could call table entries the host does not have). */
#define SPOA_ABI_MAJOR 1
#define SPOA_ABI_MINOR 0

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
 * OWNERSHIP: for values the host hands in (message arguments), u.bytes points into the
 * host's receive buffer and is borrowed; for values a plugin hands out (set_var), the host
 * copies everything before the call returns. */
typedef struct spoa_value {
  uint32_t type; /* a spoa_type */
  union {
    int boolean;
    int32_t int32;
    uint32_t uint32;
    int64_t int64;
    uint64_t uint64;
    uint8_t ipv4[4];
    uint8_t ipv6[16];
    spoa_str bytes;
  } u;
} spoa_value;

/* One argument of an SPOE message, in the order of the `args` line in spoe.conf.
 * An unnamed argument has an empty name (len 0).
 * LIFETIME: valid only during the handler call that receives it; copy what you keep. */
typedef struct spoa_arg {
  spoa_str name;
  spoa_value value;
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
 * LIFETIME: valid during init() only. */
typedef struct spoa_config_entry {
  spoa_str key;
  spoa_str value;
} spoa_config_entry;

/* ------------------------------------------------------------------------------------ */
/* Status codes and results                                                               */
/* ------------------------------------------------------------------------------------ */

/* What every host function returns, as an int32_t (one set of codes for all, as
 * Proxy-Wasm does). */
typedef enum spoa_status {
  SPOA_OK = 0,
  SPOA_ERR_INVALID_ARGUMENT = 1, /* NULL where a value is required, bad scope or type */
  SPOA_ERR_BAD_NAME = 2,         /* empty, longer than 63 bytes, or outside [A-Za-z0-9_.] */
  SPOA_ERR_TOO_BIG = 3,          /* the actions would not fit in the negotiated frame size */
  SPOA_ERR_NOT_ALLOWED = 4,      /* wrong phase: e.g. register_message outside init(),
                                    set_var on a request that is complete or stale */
  SPOA_ERR_DUPLICATE = 5,        /* message name registered twice in this instance */
  SPOA_ERR_NOT_CLAIMED = 6       /* register_message for a name the config does not give
                                    to this instance */
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
 * OWNERSHIP: host. LIFETIME: from the handler call until the handler returns DONE or FAILED,
 * or, after PENDING, until complete() is called. Using it later is detected (the handle
 * carries a generation) and refused with SPOA_ERR_NOT_ALLOWED, never a crash, but is a bug. */
typedef struct spoa_request spoa_request;

/* ------------------------------------------------------------------------------------ */
/* Message handler                                                                        */
/* ------------------------------------------------------------------------------------ */

/* Called once per occurrence of a registered message in a NOTIFY.
 *   user:    the pointer given to register_message.
 *   request: where to put actions; see spoa_request.
 *   message: the message name. args/nargs: its arguments (nargs may be 0, args then NULL).
 * LIFETIME: message and args are valid only during this call, even after PENDING.
 * THREADS: called concurrently on every I/O thread; must not block. Slow work goes to the
 *   plugin's own threads, returning PENDING.
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
   * OWNERSHIP: the text is copied. */
  void (*log)(spoa_instance* instance, int32_t level /* spoa_log_level */, spoa_str text);

  /* Claims a message name: the handler will be called for it. Only names the config's
   * `messages` list gives to this instance can be claimed (else SPOA_ERR_NOT_CLAIMED).
   * THREADS: only during init(), on the thread that called it.
   * OWNERSHIP: name is copied; `user` stays the plugin's and is passed back verbatim.
   * RETURNS: SPOA_OK, SPOA_ERR_NOT_ALLOWED (outside init), SPOA_ERR_DUPLICATE,
   *   SPOA_ERR_NOT_CLAIMED, SPOA_ERR_INVALID_ARGUMENT (NULL handler). */
  int32_t (*register_message)(spoa_instance* instance, spoa_str name, spoa_message_handler handler,
                              void* user);

  /* Adds a SET-VAR action to the request's answer. A NULL-typed value becomes UNSET-VAR
   * in HAProxy (spop.md §4). The name is without scope and prefix: "score" arrives in
   * HAProxy as txn.<var-prefix>.score.
   * THREADS: the thread running the handler, or after PENDING any one thread at a time,
   *   until complete().
   * OWNERSHIP: name and value (including its bytes) are copied before return.
   * RETURNS: SPOA_OK; SPOA_ERR_BAD_NAME; SPOA_ERR_INVALID_ARGUMENT (scope or type out of
   *   range, NULL value); SPOA_ERR_TOO_BIG (this message's actions would exceed the
   *   negotiated frame size: the action is dropped, earlier ones stay);
   *   SPOA_ERR_NOT_ALLOWED (request already complete or stale). */
  int32_t (*set_var)(spoa_request* request, int32_t scope /* spoa_scope */, spoa_str name,
                     const spoa_value* value);

  /* Adds an UNSET-VAR action. Same THREADS, OWNERSHIP and RETURNS as set_var. */
  int32_t (*unset_var)(spoa_request* request, int32_t scope /* spoa_scope */, spoa_str name);

  /* Finishes a request whose handler returned (or is about to return) PENDING.
   * `result` is SPOA_DONE or SPOA_FAILED; any other value counts as SPOA_FAILED. Call it
   * exactly once; a second call, or a call
   * after the processing deadline answered for the plugin, is ignored and logged.
   * THREADS: any thread. After it returns the request handle must not be used again.
   * RETURNS: SPOA_OK, or SPOA_ERR_NOT_ALLOWED for a stale or already completed request. */
  int32_t (*complete)(spoa_request* request, int32_t result /* spoa_result */);

  /* The message names the config maps to this instance (its `messages` list), so a plugin
   * can claim exactly those without the operator writing them twice. Writes up to
   * `capacity` views into `names` and returns how many there are in all (call with
   * capacity 0 to count).
   * THREADS: any thread. OWNERSHIP: the views point into the host's copy of the config.
   * LIFETIME: valid until shutdown() returns. */
  size_t (*claimed_messages)(spoa_instance* instance, spoa_str* names, size_t capacity);
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
 *   error, error_size: out: on failure, write a NUL-terminated reason here (it is logged as
 *             "FILE: instance NAME: init failed: reason").
 * RETURNS: 0 on success, non-zero on failure (the instance is not started and shutdown()
 *   is not called for it). */
typedef int (*spoa_init_fn)(const spoa_host_api* host, spoa_instance* instance,
                            const spoa_config_entry* config, size_t nconfig, void** state,
                            char* error, size_t error_size);

/* Stops one instance: called once, on the main thread, after no handler of this instance
 * runs any more and before the .so is unloaded; instances stop in reverse start order.
 * The plugin must have finished (or must give up) its pending requests: after shutdown
 * returns it must not call any host function, and its own threads must be joined.
 * Optional (may be NULL). */
typedef void (*spoa_shutdown_fn)(void* state);

/* Returned by the entry symbol.
 * OWNERSHIP: plugin (usually a static object). LIFETIME: until the .so is unloaded.
 * name and version are NUL-terminated. */
typedef struct spoa_plugin_descriptor {
  size_t struct_size; /* sizeof(spoa_plugin_descriptor) as the plugin was built */
  uint32_t abi_major; /* SPOA_ABI_MAJOR as the plugin was built */
  uint32_t abi_minor; /* SPOA_ABI_MINOR as the plugin was built */
  const char* name;
  const char* version;
  spoa_init_fn init;         /* required */
  spoa_shutdown_fn shutdown; /* optional */
} spoa_plugin_descriptor;

/* The entry symbol every plugin exports (C linkage). Called once after dlopen.
 * THREADS: main thread. RETURNS: a descriptor, never NULL. */
typedef const spoa_plugin_descriptor* (*spoa_plugin_entry_fn)(void);

/* Declared here so the compiler checks each plugin's definition against it. */
SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* SPOA_PLUGIN_H */
