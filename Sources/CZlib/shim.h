#ifndef SENTRY_CZLIB_SHIM_H
#define SENTRY_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro, which Swift does not import. 15 + 32: the largest window, and a gzip or zlib
// header recognised from the stream itself.
static inline int sentry_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
#endif
