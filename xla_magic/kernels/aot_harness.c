/* aot_harness.c: the standalone executable of a model compiled ahead of time by xla_magic.
 *
 *   NAME arg0.npy arg1.npy ... [-o OUTDIR] [--repeat N]     writes OUTDIR/out0.npy, out1.npy, ...
 *   NAME --info                                             prints shapes, dtypes and sizes
 *
 * Everything it knows about the model comes from NAME_info(), so this file is the same for all
 * models. xla_magic.aot compiles it once, without a model, and links each model in with
 *   cc aot_harness.o NAME.o -Wl,--defsym=xm_harness_info=NAME_info,--defsym=xm_harness_run=NAME_run_array
 * or, where the linker lacks --defsym, compiles it against the model's header:
 *   cc -DXM_HEADER='"NAME.h"' -DXM_PREFIX=NAME aot_harness.c NAME.o -lm
 *
 * Inputs are checked before the model runs: the .npy magic and version, the header's dict
 * (descr, fortran_order, shape), the dtype and shape against the parameter, and the data's
 * length. Any mismatch is a message on stderr and exit status 1 (2 for a bad command line);
 * the model never sees a buffer of the wrong size.
 *
 * bf16 has no .npy type code. Outputs of type bf16 are written as float32 ('<f4', exact);
 * bf16 inputs are read from '<f4' (rounded to nearest even) or from raw 2-byte '<V2' values
 * (what numpy writes for ml_dtypes.bfloat16). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef XM_HEADER
#include XM_HEADER
#define XM_CAT2(a, b) a##b
#define XM_CAT(a, b) XM_CAT2(a, b)
#define MODEL_INFO XM_CAT(XM_PREFIX, _info)
#define MODEL_RUN XM_CAT(XM_PREFIX, _run_array)
#else
#include "xm_model.h"
const xm_model_info *xm_harness_info(void);
void xm_harness_run(void *arena, const void *const *args, void *const *outs);
#define MODEL_INFO xm_harness_info
#define MODEL_RUN xm_harness_run
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the harness reads and writes little-endian .npy files on a little-endian machine"
#endif

#define MAX_RANK 64
#define MAX_HEADER (1 << 20) /* numpy itself refuses headers much longer than this */
#define ALIGN 64

static const char *prog = "model";

static int fail(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

static void *alloc(int64_t bytes) {
  size_t n = (size_t)((bytes + ALIGN - 1) / ALIGN * ALIGN);
  return aligned_alloc(ALIGN, n ? n : ALIGN);
}

static void type_text(const xm_buffer_info *b, char *out, size_t cap) {
  size_t len = (size_t)snprintf(out, cap, "%s[", b->dtype);
  for (int64_t i = 0; i < b->rank && len < cap; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "", (long long)b->dims[i]);
  if (len < cap) snprintf(out + len, cap - len, "]");
}

/* --- .npy header: a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (4, 64), } */

typedef struct {
  char descr[16];
  int fortran;
  int rank;
  int64_t dims[MAX_RANK];
} npy_header;

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* A quoted string into out[cap]; NULL when malformed or too long. */
static const char *parse_str(const char *p, char *out, size_t cap) {
  char q = *p;
  size_t n = 0;
  if (q != '\'' && q != '"') return NULL;
  for (p++; *p && *p != q; p++) {
    if (n + 1 >= cap || *p < 0x20 || *p > 0x7e) return NULL; /* printable ASCII only: it may be echoed */
    out[n++] = *p;
  }
  if (*p != q) return NULL;
  out[n] = 0;
  return p + 1;
}

static const char *parse_header(const char *p, npy_header *h) {
  int have_descr = 0, have_fortran = 0, have_shape = 0;
  char key[32];
  p = skip_ws(p);
  if (*p++ != '{') return "the header is not a dict";
  for (;;) {
    p = skip_ws(p);
    if (*p == '}') break;
    if (!(p = parse_str(p, key, sizeof key))) return "a key of the header is not a short string";
    p = skip_ws(p);
    if (*p++ != ':') return "the header dict has no ':' after a key";
    p = skip_ws(p);
    if (!strcmp(key, "descr")) {
      if (!(p = parse_str(p, h->descr, sizeof h->descr)))
        return "'descr' is not a simple type code (structured arrays are not supported)";
      have_descr = 1;
    } else if (!strcmp(key, "fortran_order")) {
      if (!strncmp(p, "True", 4)) h->fortran = 1, p += 4;
      else if (!strncmp(p, "False", 5)) h->fortran = 0, p += 5;
      else return "'fortran_order' is neither True nor False";
      have_fortran = 1;
    } else if (!strcmp(key, "shape")) {
      if (*p++ != '(') return "'shape' is not a tuple";
      h->rank = 0;
      for (;;) {
        p = skip_ws(p);
        if (*p == ')') { p++; break; }
        if (*p < '0' || *p > '9') return "'shape' holds something other than non-negative integers";
        int64_t v = 0;
        while (*p >= '0' && *p <= '9') {
          if (v > (INT64_MAX - 9) / 10) return "a dimension in 'shape' is too large";
          v = v * 10 + (*p++ - '0');
        }
        if (*p == 'L') p++; /* Python 2 longs */
        if (h->rank >= MAX_RANK) return "'shape' has too many dimensions";
        h->dims[h->rank++] = v;
        p = skip_ws(p);
        if (*p == ',') p++;
        else if (*p != ')') return "'shape' is not a tuple of integers";
      }
      have_shape = 1;
    } else {
      return "the header has an unknown key";
    }
    p = skip_ws(p);
    if (*p == ',') p++;
    else if (*p != '}') return "the header dict is malformed";
  }
  if (!have_descr || !have_fortran || !have_shape) return "the header lacks 'descr', 'fortran_order' or 'shape'";
  return NULL;
}

/* 1-byte types carry no byte order: '|u1', '<u1', '=u1' are the same. */
static int same_descr(const char *got, const char *want) {
  if (!strcmp(got, want)) return 1;
  if (strlen(got) == 3 && strlen(want) == 3 && got[2] == '1' && !strcmp(got + 1, want + 1))
    return got[0] == '|' || got[0] == '<' || got[0] == '=' || got[0] == '>';
  if (got[0] == '=' && want[0] == '<') return !strcmp(got + 1, want + 1); /* native = little-endian here */
  return 0;
}

static uint16_t f32_to_bf16(uint32_t x) {
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* NaN stays NaN (quiet) */
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);                 /* nearest, ties to even */
}

/* Reads path into buf (b->bytes bytes), checking everything first. 0 on success. */
static int read_npy(const char *path, int k, const xm_buffer_info *b, void *buf) {
  char want[160], got[160];
  type_text(b, want, sizeof want);
  FILE *f = fopen(path, "rb");
  if (!f) return fail("arg%d '%s' (%s): cannot open: %s", k, b->name, path, strerror(errno));
  int rc = 1;
  char *text = NULL;
  unsigned char pre[12];
  npy_header h;
  memset(&h, 0, sizeof h);
  if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    fail("arg%d '%s' (%s): not a .npy file (no \\x93NUMPY magic)", k, b->name, path);
    goto done;
  }
  uint32_t hlen;
  size_t prefix;
  if (pre[6] == 1) {
    if (fread(pre + 8, 1, 2, f) != 2) goto truncated_header;
    hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    prefix = 10;
  } else if (pre[6] == 2 || pre[6] == 3) {
    if (fread(pre + 8, 1, 4, f) != 4) goto truncated_header;
    hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    prefix = 12;
  } else {
    fail("arg%d '%s' (%s): unsupported .npy format version %d.%d", k, b->name, path, pre[6], pre[7]);
    goto done;
  }
  (void)prefix;
  if (hlen > MAX_HEADER) {
    fail("arg%d '%s' (%s): .npy header of %u bytes is implausibly long", k, b->name, path, hlen);
    goto done;
  }
  text = malloc(hlen + 1);
  if (!text) { fail("out of memory"); goto done; }
  if (fread(text, 1, hlen, f) != hlen) goto truncated_header;
  text[hlen] = 0;
  if (strlen(text) != hlen) {
    fail("arg%d '%s' (%s): the .npy header holds a NUL byte", k, b->name, path);
    goto done;
  }
  const char *why = parse_header(text, &h);
  if (why) {
    fail("arg%d '%s' (%s): bad .npy header: %s", k, b->name, path, why);
    goto done;
  }
  /* Shape: exactly the parameter's. */
  int shape_ok = h.rank == b->rank;
  for (int i = 0; shape_ok && i < h.rank; i++) shape_ok = h.dims[i] == b->dims[i];
  if (!shape_ok) {
    size_t len = (size_t)snprintf(got, sizeof got, "(");
    for (int i = 0; i < h.rank && len < sizeof got; i++)
      len += (size_t)snprintf(got + len, sizeof got - len, "%s%lld", i ? ", " : "", (long long)h.dims[i]);
    if (len < sizeof got) snprintf(got + len, sizeof got - len, h.rank == 1 ? ",)" : ")");
    fail("arg%d '%s' (%s): shape %s does not match the parameter's %s", k, b->name, path, got, want);
    goto done;
  }
  int non_unit = 0;
  for (int i = 0; i < h.rank; i++) non_unit += h.dims[i] > 1;
  if (h.fortran && non_unit > 1) {
    fail("arg%d '%s' (%s): the array is in Fortran order; save a C-ordered one (np.ascontiguousarray)",
         k, b->name, path);
    goto done;
  }
  /* Dtype: the parameter's, or for bf16 float32 / raw 2-byte values. */
  int bf16_from_f32 = 0;
  if (!strcmp(b->dtype, "bf16")) {
    if (same_descr(h.descr, "<f4")) bf16_from_f32 = 1;
    else if (!same_descr(h.descr, "<V2") && !same_descr(h.descr, "|V2")) {
      fail("arg%d '%s' (%s): dtype '%s' does not match the parameter's bf16 (give '<f4' or '<V2')",
           k, b->name, path, h.descr);
      goto done;
    }
  } else if (!same_descr(h.descr, b->npy_descr)) {
    fail("arg%d '%s' (%s): dtype '%s' does not match the parameter's %s (.npy '%s')", k, b->name, path,
         h.descr, b->dtype, b->npy_descr);
    goto done;
  }
  /* Data: exactly b->bytes bytes (or twice that for bf16 stored as float32), then the end. */
  size_t n = (size_t)b->bytes * (bf16_from_f32 ? 2 : 1);
  void *dst = buf;
  if (bf16_from_f32 && !(dst = alloc((int64_t)n))) { fail("out of memory"); goto done; }
  size_t r = fread(dst, 1, n, f);
  if (r != n) {
    fail("arg%d '%s' (%s): truncated: %zu of %zu data bytes", k, b->name, path, r, n);
    if (dst != buf) free(dst);
    goto done;
  }
  if (fgetc(f) != EOF) {
    fail("arg%d '%s' (%s): bytes left after the %zu data bytes of %s", k, b->name, path, n, want);
    if (dst != buf) free(dst);
    goto done;
  }
  if (bf16_from_f32) {
    const uint32_t *src = dst;
    uint16_t *out = buf;
    for (size_t i = 0; i < n / 4; i++) out[i] = f32_to_bf16(src[i]);
    free(dst);
  }
  rc = 0;
  goto done;
truncated_header:
  fail("arg%d '%s' (%s): truncated .npy header", k, b->name, path);
done:
  free(text);
  fclose(f);
  return rc;
}

static int write_npy(const char *dir, int k, const xm_buffer_info *b, const void *buf) {
  char path[4096], head[512];
  int bf16 = !strcmp(b->dtype, "bf16");
  snprintf(path, sizeof path, "%s/out%d.npy", dir, k);
  int len = snprintf(head, sizeof head, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     bf16 ? "<f4" : b->npy_descr);
  for (int64_t i = 0; i < b->rank && len < 400; i++)
    len += snprintf(head + len, sizeof head - (size_t)len, "%lld%s", (long long)b->dims[i],
                    (b->rank == 1 || i + 1 < b->rank) ? ", " : "");
  if (len >= 400) return fail("out%d: shape too long for a .npy header", k);
  len += snprintf(head + len, sizeof head - (size_t)len, "), }");
  int total = (10 + len + 1 + 63) / 64 * 64; /* magic+version+length, dict, '\n': a multiple of 64 */
  while (10 + len + 1 < total) head[len++] = ' ';
  head[len++] = '\n';
  FILE *f = fopen(path, "wb");
  if (!f) return fail("cannot create %s: %s", path, strerror(errno));
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len & 0xff),
                           (unsigned char)(len >> 8)};
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(head, 1, (size_t)len, f) == (size_t)len;
  if (bf16) {
    const uint16_t *src = buf;
    for (int64_t i = 0; ok && i < b->bytes / 2; i++) {
      uint32_t v = (uint32_t)src[i] << 16;
      ok = fwrite(&v, 4, 1, f) == 1;
    }
  } else if (b->bytes) {
    ok = ok && fwrite(buf, 1, (size_t)b->bytes, f) == (size_t)b->bytes;
  }
  if (fclose(f) != 0) ok = 0;
  return ok ? 0 : fail("writing %s failed: %s", path, strerror(errno));
}

static void print_info(FILE *f, const xm_model_info *m) {
  char t[160];
  fprintf(f, "%s (HLO module '%s', %s): %lld inputs, %lld outputs, arena %lld bytes (aligned %lld)\n", m->name,
         m->hlo_module, m->target_triple, (long long)m->n_inputs, (long long)m->n_outputs,
         (long long)m->arena_bytes, (long long)m->arena_align);
  for (int64_t i = 0; i < m->n_inputs; i++) {
    type_text(&m->inputs[i], t, sizeof t);
    fprintf(f, "  arg%lld '%s': %s, %lld bytes (.npy '%s')\n", (long long)i, m->inputs[i].name, t,
           (long long)m->inputs[i].bytes, m->inputs[i].npy_descr);
  }
  for (int64_t i = 0; i < m->n_outputs; i++) {
    type_text(&m->outputs[i], t, sizeof t);
    fprintf(f, "  out%lld: %s, %lld bytes (.npy '%s')\n", (long long)i, t, (long long)m->outputs[i].bytes,
           m->outputs[i].npy_descr);
  }
}

static int usage(const xm_model_info *m) {
  fprintf(stderr, "usage: %s", prog);
  for (int64_t i = 0; i < m->n_inputs; i++) fprintf(stderr, " arg%lld.npy", (long long)i);
  fprintf(stderr, " [-o OUTDIR] [--repeat N] | --info\n");
  print_info(stderr, m);
  return 2;
}

int main(int argc, char **argv) {
  const xm_model_info *m = MODEL_INFO();
  const char *dir = ".";
  const char **files = calloc((size_t)argc, sizeof *files);
  long repeat = 1;
  int nfiles = 0;
  prog = argc > 0 && argv[0] ? argv[0] : m->name;
  if (!files) return fail("out of memory");
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) {
      if (++i >= argc) return usage(m);
      dir = argv[i];
    } else if (!strcmp(argv[i], "--repeat")) {
      char *end;
      if (++i >= argc) return usage(m);
      repeat = strtol(argv[i], &end, 10);
      if (*end || repeat < 1) return usage(m);
    } else if (!strcmp(argv[i], "--info")) {
      print_info(stdout, m);
      return 0;
    } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fprintf(stdout, "usage: %s arg0.npy ... [-o OUTDIR] [--repeat N] | --info\n", prog);
      print_info(stdout, m);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "%s: unknown option %s\n", prog, argv[i]);
      return usage(m);
    } else {
      files[nfiles++] = argv[i];
    }
  }
  if (nfiles != m->n_inputs) {
    fprintf(stderr, "%s: the model takes %lld inputs, %d given\n", prog, (long long)m->n_inputs, nfiles);
    return usage(m);
  }
  void **ins = calloc((size_t)m->n_inputs + 1, sizeof *ins);
  void **outs = calloc((size_t)m->n_outputs + 1, sizeof *outs);
  void *arena = m->arena_bytes ? alloc(m->arena_bytes) : NULL;
  if (!ins || !outs || (m->arena_bytes && !arena)) return fail("out of memory");
  for (int64_t i = 0; i < m->n_inputs; i++) {
    if (!(ins[i] = alloc(m->inputs[i].bytes))) return fail("out of memory");
    if (read_npy(files[i], (int)i, &m->inputs[i], ins[i])) return 1;
  }
  for (int64_t i = 0; i < m->n_outputs; i++)
    if (!(outs[i] = alloc(m->outputs[i].bytes))) return fail("out of memory");
  struct stat st;
  if (stat(dir, &st) != 0) {
    if (mkdir(dir, 0777) != 0) return fail("cannot create %s: %s", dir, strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    return fail("%s is not a directory", dir);
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long r = 0; r < repeat; r++) MODEL_RUN(arena, (const void *const *)ins, outs);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (repeat > 1) {
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / (double)repeat;
    fprintf(stderr, "%s: %ld calls, %.3f us per call\n", prog, repeat, us);
  }
  for (int64_t i = 0; i < m->n_outputs; i++)
    if (write_npy(dir, (int)i, &m->outputs[i], outs[i])) return 1;
  for (int64_t i = 0; i < m->n_inputs; i++) free(ins[i]);
  for (int64_t i = 0; i < m->n_outputs; i++) free(outs[i]);
  free(arena);
  free(ins);
  free(outs);
  free(files);
  return 0;
}
