/* plugin.h as a C99 compiler sees it (built with -std=c99 -pedantic -Werror). */
#include "abi_layout.h"

#define SPOA_AS_ELEMENT(expr) (size_t)(expr),
const size_t spoa_c_layout[] = {SPOA_ABI_LAYOUT(SPOA_AS_ELEMENT)};
const size_t spoa_c_layout_count = sizeof spoa_c_layout / sizeof spoa_c_layout[0];
