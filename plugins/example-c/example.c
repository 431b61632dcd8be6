/*
 * example-c: the smallest useful spoa-host plugin in plain C99. Copy this file to start
 * your own; every step a plugin takes is here, in the order the host runs them.
 *
 * What it does: for each message it claims (config key `messages`, default "example"), it
 * sets txn.<prefix>.greeting = "hello", and txn.<prefix>.ip_seen = true when the message
 * has an argument named `ip` holding an IPv4 or IPv6 address (spoe.conf: `args ip=src`).
 *
 * Build: cc -std=c99 -shared -fPIC -fvisibility=hidden $(pkg-config --cflags spoa-host-sdk)
 *        example.c -o example-c.so
 */
#include <spoa/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. Per-instance state ---------------------------------------------------------
 * The host may start this .so several times ([plugins.a] and [plugins.b] both naming it),
 * so nothing lives in globals: init() allocates one of these per instance and the host
 * hands it back to shutdown(). */
struct example {
  const spoa_host_api* host; /* valid until shutdown() returns: keep it */
  spoa_instance* instance;   /* the host's handle, for log() */
};

/* A spoa_str is a pointer and a length, not a C string: build them with this. */
static spoa_str str_of(const char* text) {
  spoa_str s;
  s.ptr = text;
  s.len = strlen(text);
  return s;
}

static int str_equals(spoa_str s, const char* text) {
  size_t len = strlen(text);
  return s.len == len && (len == 0 || memcmp(s.ptr, text, len) == 0);
}

/* ---- 2. The message handler -----------------------------------------------------------
 * Runs on the host's I/O threads, possibly on several at once for different requests, so
 * it must not block and must not touch shared state without a lock (this one only reads
 * its instance). `args` and their bytes belong to the host and vanish when we return. */
static spoa_result on_example(void* user, spoa_request* request, spoa_str message,
                              const spoa_arg* args, size_t nargs) {
  struct example* ex = (struct example*)user;
  spoa_value greeting;
  size_t i;
  (void)message; /* one handler serves every claimed message alike */

  /* Variable names are given without scope and prefix: HAProxy sees txn.<prefix>.greeting.
   * The host copies the name and the value before set_var() returns, so pointing at a
   * string literal (or a stack buffer) is fine. */
  greeting.type = SPOA_TYPE_STRING;
  greeting.u.bytes = str_of("hello");
  if (ex->host->set_var(request, SPOA_SCOPE_TXN, str_of("greeting"), &greeting) != SPOA_OK) {
    /* FAILED: this message adds no variables; the host logs it and answers HAProxy
     * anyway, so returning it is always safe. */
    return SPOA_FAILED;
  }

  /* Arguments come in the order of `args` in spoe.conf; find ours by name. */
  for (i = 0; i < nargs; ++i) {
    if (!str_equals(args[i].name, "ip")) continue;
    if (args[i].value.type == SPOA_TYPE_IPV4 || args[i].value.type == SPOA_TYPE_IPV6) {
      spoa_value seen;
      seen.type = SPOA_TYPE_BOOL;
      seen.u.boolean = 1;
      ex->host->set_var(request, SPOA_SCOPE_TXN, str_of("ip_seen"), &seen);
    }
    break;
  }

  /* DONE: the variables set above are the answer. (A plugin that needs to wait on
   * something would return SPOA_PENDING and call host->complete() later from its own
   * thread; see plugins/delay.) */
  return SPOA_DONE;
}

/* ---- 3. init(): read the config, claim messages ----------------------------------------
 * Called once per instance on the main thread. The config entries are only valid during
 * this call. On failure, write a reason into `error` and return non-zero: the host prints
 * it and does not start the instance (and does not call shutdown()). */
static int example_init(const spoa_host_api* host, spoa_instance* instance,
                        const spoa_config_entry* config, size_t nconfig, void** state, char* error,
                        size_t error_size) {
  struct example* ex;
  const char* messages = "example"; /* default when the config has no `messages` key */
  size_t messages_len = strlen(messages);
  size_t i;
  size_t start;

  for (i = 0; i < nconfig; ++i) {
    if (str_equals(config[i].key, "messages")) {
      messages = config[i].value.ptr;
      messages_len = config[i].value.len;
    } else {
      /* Refusing unknown keys turns a typo in the config into a clear start-up error. */
      snprintf(error, error_size, "unknown config key '%.*s' (known keys: messages)",
               (int)config[i].key.len, config[i].key.ptr);
      return 1;
    }
  }

  ex = (struct example*)calloc(1, sizeof *ex);
  if (ex == NULL) {
    snprintf(error, error_size, "out of memory");
    return 1;
  }
  ex->host = host;
  ex->instance = instance;

  /* `messages` is a comma-separated list (the host joins a TOML array with commas).
   * Each name must also be in the instance's `messages` list in the spoa-host config,
   * otherwise register_message() answers SPOA_ERR_NOT_CLAIMED. The `ex` pointer is
   * handed back to on_example() as `user`. */
  start = 0;
  for (i = 0; i <= messages_len; ++i) {
    spoa_str name;
    if (i < messages_len && messages[i] != ',') continue;
    name.ptr = messages + start;
    name.len = i - start;
    while (name.len > 0 && name.ptr[0] == ' ') {
      ++name.ptr;
      --name.len;
    }
    while (name.len > 0 && name.ptr[name.len - 1] == ' ')
      --name.len;
    start = i + 1;
    if (name.len == 0) continue;
    if (host->register_message(instance, name, on_example, ex) != SPOA_OK) {
      snprintf(error, error_size,
               "cannot claim message '%.*s': is it in this instance's "
               "messages list?",
               (int)name.len, name.ptr);
      free(ex);
      return 1;
    }
  }

  host->log(instance, SPOA_LOG_INFO, str_of("example-c started"));
  *state = ex;
  return 0;
}

/* ---- 4. shutdown(): undo init() ------------------------------------------------------
 * Called once, after the last handler of this instance has returned. A plugin with
 * threads or pending requests must finish them here: after this returns, the host table
 * must not be used again. */
static void example_shutdown(void* state) {
  free(state);
}

/* ---- 5. The entry point --------------------------------------------------------------
 * The only symbol the host looks up. The descriptor tells it which ABI this file was
 * compiled against (the SPOA_ABI_* macros of the header you built with), so a plugin built
 * for another major version is refused with a clear message instead of crashing. */
static const spoa_plugin_descriptor example_descriptor = {
    sizeof(spoa_plugin_descriptor),
    SPOA_ABI_MAJOR,
    SPOA_ABI_MINOR,
    "example-c",
    "1.0.0",
    example_init,
    example_shutdown,
};

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void);
SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &example_descriptor;
}
