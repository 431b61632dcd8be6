/*
 * example-c: the smallest useful spoa-host plugin in plain C99. Copy this file to start
 * your own; every step a plugin takes is here, in the order the host runs them.
 *
 * What it does: for each message the spoa-host config gives this instance (`messages` in
 * [plugins.NAME]; the optional plugin config key `messages` narrows them), it sets
 * txn.<prefix>.greeting = "hello", and txn.<prefix>.ip_seen = true when the message has an
 * argument named `ip` holding an IPv4 or IPv6 address (spoe.conf: `args ip=src`).
 *
 * Build: cc -std=c99 -shared -fPIC -fvisibility=hidden $(pkg-config --cflags spoa-host-sdk)
 *        example.c -o example-c.so
 */
#include <spoa/plugin.h>

#include <stddef.h>
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
 * its instance). `args` and their bytes belong to the host and vanish when we return.
 * It returns an int32_t holding a spoa_result: every enum crosses the ABI as an int32_t. */
static int32_t on_example(void* user, spoa_request* request, spoa_str message, const spoa_arg* args,
                          size_t nargs) {
  struct example* ex = (struct example*)user;
  /* Zero-initialised: the fields this plugin does not set (flags, reserved room for later
   * ABI minors) must be 0. */
  spoa_value greeting = {0};
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
      spoa_value seen = {0};
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

static int str_same(spoa_str a, spoa_str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Takes the next item of a comma-separated list (the host joins a TOML array with commas)
 * off the front of *list, trimmed of spaces. Returns 0 when no item is left. */
static int next_item(spoa_str* list, spoa_str* item) {
  while (list->len > 0) {
    size_t n = 0;
    while (n < list->len && list->ptr[n] != ',')
      ++n;
    item->ptr = list->ptr;
    item->len = n;
    list->ptr += n;
    list->len -= n;
    if (list->len > 0) { /* skip the comma */
      ++list->ptr;
      --list->len;
    }
    while (item->len > 0 && item->ptr[0] == ' ') {
      ++item->ptr;
      --item->len;
    }
    while (item->len > 0 && item->ptr[item->len - 1] == ' ')
      --item->len;
    if (item->len > 0) return 1;
  }
  return 0;
}

static int list_contains(spoa_str list, spoa_str name) {
  spoa_str item;
  while (next_item(&list, &item)) {
    if (str_same(item, name)) return 1;
  }
  return 0;
}

static int array_contains(const spoa_str* names, size_t count, spoa_str name) {
  size_t i;
  for (i = 0; i < count; ++i) {
    if (str_same(names[i], name)) return 1;
  }
  return 0;
}

static int example_init(const spoa_host_api* host, spoa_instance* instance,
                        const spoa_config_entry* config, size_t nconfig, void** state, char* error,
                        size_t error_size) {
  struct example* ex;
  const spoa_config_entry* only = NULL; /* the optional `messages` key */
  spoa_str* names;
  spoa_str rest, item;
  size_t count, written, i;

  for (i = 0; i < nconfig; ++i) {
    if (str_equals(config[i].key, "messages")) {
      only = &config[i];
    } else {
      /* Refusing unknown keys turns a typo in the config into a clear start-up error. */
      snprintf(error, error_size, "unknown config key '%.*s' (known keys: messages)",
               (int)config[i].key.len, config[i].key.ptr);
      return 1;
    }
  }

  /* Rule 2 of the SDK: a table entry may be used only when host->struct_size covers it. */
  if (host->struct_size <
          offsetof(spoa_host_api, claimed_messages) + sizeof host->claimed_messages ||
      host->claimed_messages == NULL) {
    snprintf(error, error_size, "the host does not provide claimed_messages()");
    return 1;
  }

  /* The names the spoa-host config maps to this instance, so the operator writes them
   * once, in [plugins.NAME] messages: ask for the count, then for the names. The views
   * stay valid until shutdown() returns; we only need them here. */
  count = host->claimed_messages(instance, NULL, 0);
  names = (spoa_str*)calloc(count == 0 ? 1 : count, sizeof *names);
  if (names == NULL) {
    snprintf(error, error_size, "out of memory");
    return 1;
  }
  written = host->claimed_messages(instance, names, count);
  if (written < count) count = written;

  /* The optional `messages` key narrows them. A name it lists that the instance is not
   * given would never be answered: say so now instead of leaving the operator guessing. */
  if (only != NULL) {
    rest = only->value;
    if (!next_item(&rest, &item)) {
      snprintf(error, error_size, "config key 'messages': no message name");
      free(names);
      return 1;
    }
    rest = only->value;
    while (next_item(&rest, &item)) {
      if (!array_contains(names, count, item)) {
        snprintf(error, error_size,
                 "config key 'messages': '%.*s' is not in this instance's messages list",
                 (int)item.len, item.ptr);
        free(names);
        return 1;
      }
    }
  }

  ex = (struct example*)calloc(1, sizeof *ex);
  if (ex == NULL) {
    snprintf(error, error_size, "out of memory");
    free(names);
    return 1;
  }
  ex->host = host;
  ex->instance = instance;

  /* Claim them. The `ex` pointer is handed back to on_example() as `user`. */
  for (i = 0; i < count; ++i) {
    if (only != NULL && !list_contains(only->value, names[i])) continue;
    if (host->register_message(instance, names[i], on_example, ex) != SPOA_OK) {
      snprintf(error, error_size, "cannot claim message '%.*s'", (int)names[i].len, names[i].ptr);
      free(names);
      free(ex);
      return 1;
    }
  }
  free(names);

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
 * The only symbol the host looks up. The descriptor tells it which ABI major this file was
 * compiled against, so a plugin built for another major version is refused with a clear
 * message instead of crashing, and which minor it requires: this plugin uses nothing newer
 * than ABI 1.0's table entries, so it requires minor 0 and any 1.x host from 1.1 on loads
 * it. plugin.h declares the function, so the compiler checks this definition against it. */
static const spoa_plugin_descriptor example_descriptor =
    SPOA_PLUGIN_DESCRIPTOR_INIT(0, "example-c", "1.0.0", example_init, example_shutdown);

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &example_descriptor;
}
