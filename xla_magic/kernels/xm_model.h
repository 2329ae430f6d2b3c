/* xm_model.h: the description of a model compiled ahead of time by xla_magic, as NAME_info()
 * returns it. Every generated NAME.h holds a copy of this text; the harness includes it. */
#ifndef XM_MODEL_INFO_DEFINED
#define XM_MODEL_INFO_DEFINED
#include <stdint.h>

/* One parameter or output: a dense row-major array. */
typedef struct xm_buffer_info {
  const char *name;      /* the HLO parameter's name, or "out0", "out1", ... */
  const char *dtype;     /* HLO element type: "f32", "bf16", "s32", "pred", ... */
  const char *npy_descr; /* .npy type code the harness uses ("<f4" for bf16: see the docs) */
  const int64_t *dims;   /* rank entries (NULL for a scalar) */
  int64_t rank;
  int64_t elem_bytes;
  int64_t bytes;         /* the buffer's size in bytes */
} xm_buffer_info;

typedef struct xm_model_info {
  int64_t abi_version;   /* 1 */
  int64_t n_inputs, n_outputs;
  int64_t arena_bytes;   /* temporaries: one block of this size ... */
  int64_t arena_align;   /* ... aligned to this many bytes */
  int64_t threads;       /* most threads a call runs on */
  const char *name;           /* NAME */
  const char *hlo_module;     /* the HLO module's name */
  const char *target_triple;
  const xm_buffer_info *inputs;   /* n_inputs entries */
  const xm_buffer_info *outputs;  /* n_outputs entries */
} xm_model_info;
#endif
