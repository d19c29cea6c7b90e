// C shim over libsentencepiece's C++ API (Debian 0.1.97), for Swift.
//
// Ownership: every pointer returned through an `out` parameter or as a `char *` result is owned by
// the caller and released with the matching free function named beside it. Error strings come back
// through `char **error` (NULL on success) and are released with spm_free_string.
#ifndef CSENTENCEPIECE_H
#define CSENTENCEPIECE_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/// An opaque loaded SentencePiece model.
typedef struct spm_processor spm_processor;

/// Loads a `.model` file. Returns NULL and sets *error on failure. Free with spm_processor_free.
spm_processor *spm_processor_load_file(const char *path, char **error);
/// Loads a serialized ModelProto from memory. Returns NULL and sets *error on failure.
spm_processor *spm_processor_load_bytes(const void *bytes, size_t count, char **error);
void spm_processor_free(spm_processor *processor);

/// Encodes UTF-8 text (`count` bytes) to ids. *ids is malloc'ed (free with spm_free_ids). Returns 0 on success.
int spm_encode_ids(const spm_processor *processor, const char *text, size_t count,
                   int32_t **ids, size_t *id_count, char **error);
void spm_free_ids(int32_t *ids);

/// Encodes UTF-8 text to pieces: *pieces is an array of *piece_count NUL-terminated strings
/// (free with spm_free_pieces). Returns 0 on success.
int spm_encode_pieces(const spm_processor *processor, const char *text, size_t count,
                      char ***pieces, size_t *piece_count, char **error);
void spm_free_pieces(char **pieces, size_t piece_count);

/// Decodes ids to UTF-8 text; *text is malloc'ed with *text_count bytes plus a NUL (free with spm_free_string).
int spm_decode_ids(const spm_processor *processor, const int32_t *ids, size_t id_count,
                   char **text, size_t *text_count, char **error);

/// Vocabulary: size, piece <-> id (unknown pieces give the unk id), special ids (-1 when disabled).
int spm_vocab_size(const spm_processor *processor);
int spm_piece_to_id(const spm_processor *processor, const char *piece);
/// The piece of `id` as a malloc'ed string (free with spm_free_string); NULL when out of range.
char *spm_id_to_piece(const spm_processor *processor, int id);
int spm_bos_id(const spm_processor *processor);
int spm_eos_id(const spm_processor *processor);
int spm_unk_id(const spm_processor *processor);
int spm_pad_id(const spm_processor *processor);
int spm_is_control(const spm_processor *processor, int id);
int spm_is_byte(const spm_processor *processor, int id);
int spm_is_unused(const spm_processor *processor, int id);
/// The piece's score (log-probability for unigram, merge rank for BPE).
float spm_get_score(const spm_processor *processor, int id);
int spm_is_unknown(const spm_processor *processor, int id);

/// Trains a model with the trainer's option string, e.g.
/// "--input=a.txt --model_prefix=m --vocab_size=512 --model_type=bpe --byte_fallback=true".
/// Returns NULL on success, or an error string (free with spm_free_string).
char *spm_train(const char *options);

/// Rewrites a trained model file so that its trainer_spec records only the file names of its
/// `input` and `model_prefix` (the trainer writes the paths as given): the same training in another
/// directory gives the same bytes. Returns 0, or 1 with a malloc'ed error (free with spm_free_string).
int spm_relativise_trainer_paths(const char *model_file, char **error);

/// Library log level: 0 info, 1 warning, 2 error, 3 fatal only (training logs at info).
void spm_set_min_log_level(int level);
/// Seed for the library's random generator (used by unigram training's sampling).
void spm_set_random_seed(unsigned int seed);

void spm_free_string(char *string);

#ifdef __cplusplus
}
#endif
#endif
