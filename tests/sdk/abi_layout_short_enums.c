/* plugin.h as a C99 compiler sees it with -fshort-enums (set on this file in
 * CMakeLists.txt): an enum is then as small as its values allow, which is why no enum
 * type may appear in a struct or a signature of the ABI. */
#include "abi_layout.h"

SPOA_ABI_LAYOUT_DEFINE(spoa_c_short_enums_layout, spoa_c_short_enums_layout_count)

const size_t spoa_c_short_enums_result_size = sizeof(spoa_result);
