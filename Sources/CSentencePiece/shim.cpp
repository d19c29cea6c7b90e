// C shim over libsentencepiece's C++ API. See include/csentencepiece.h for ownership rules.
#include "csentencepiece.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace sentencepiece { namespace logging { void SetMinLogLevel(int v); } }

struct spm_processor {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

char *copy_string(const std::string &s) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out == nullptr) return nullptr;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return out;
}

void set_error(char **error, const std::string &message) {
    if (error != nullptr) *error = copy_string(message);
}

spm_processor *finish_load(spm_processor *p, const sentencepiece::util::Status &status, char **error) {
    if (status.ok()) return p;
    set_error(error, status.ToString());
    delete p;
    return nullptr;
}

}  // namespace

extern "C" {

spm_processor *spm_processor_load_file(const char *path, char **error) {
    auto *p = new spm_processor();
    return finish_load(p, p->processor.Load(path), error);
}

spm_processor *spm_processor_load_bytes(const void *bytes, size_t count, char **error) {
    auto *p = new spm_processor();
    std::string serialized(static_cast<const char *>(bytes), count);
    return finish_load(p, p->processor.LoadFromSerializedProto(serialized), error);
}

void spm_processor_free(spm_processor *processor) { delete processor; }

int spm_encode_ids(const spm_processor *processor, const char *text, size_t count,
                   int32_t **ids, size_t *id_count, char **error) {
    std::vector<int> out;
    auto status = processor->processor.Encode(std::string(text, count), &out);
    if (!status.ok()) { set_error(error, status.ToString()); return 1; }
    *id_count = out.size();
    *ids = static_cast<int32_t *>(std::malloc(sizeof(int32_t) * (out.empty() ? 1 : out.size())));
    for (size_t i = 0; i < out.size(); ++i) (*ids)[i] = static_cast<int32_t>(out[i]);
    return 0;
}

void spm_free_ids(int32_t *ids) { std::free(ids); }

int spm_encode_pieces(const spm_processor *processor, const char *text, size_t count,
                      char ***pieces, size_t *piece_count, char **error) {
    std::vector<std::string> out;
    auto status = processor->processor.Encode(std::string(text, count), &out);
    if (!status.ok()) { set_error(error, status.ToString()); return 1; }
    *piece_count = out.size();
    *pieces = static_cast<char **>(std::malloc(sizeof(char *) * (out.empty() ? 1 : out.size())));
    for (size_t i = 0; i < out.size(); ++i) (*pieces)[i] = copy_string(out[i]);
    return 0;
}

void spm_free_pieces(char **pieces, size_t piece_count) {
    if (pieces == nullptr) return;
    for (size_t i = 0; i < piece_count; ++i) std::free(pieces[i]);
    std::free(pieces);
}

int spm_decode_ids(const spm_processor *processor, const int32_t *ids, size_t id_count,
                   char **text, size_t *text_count, char **error) {
    std::vector<int> in(ids, ids + id_count);
    std::string out;
    auto status = processor->processor.Decode(in, &out);
    if (!status.ok()) { set_error(error, status.ToString()); return 1; }
    *text = copy_string(out);
    *text_count = out.size();
    return 0;
}

int spm_vocab_size(const spm_processor *processor) { return processor->processor.GetPieceSize(); }

int spm_piece_to_id(const spm_processor *processor, const char *piece) {
    return processor->processor.PieceToId(piece);
}

char *spm_id_to_piece(const spm_processor *processor, int id) {
    if (id < 0 || id >= processor->processor.GetPieceSize()) return nullptr;
    return copy_string(processor->processor.IdToPiece(id));
}

int spm_bos_id(const spm_processor *processor) { return processor->processor.bos_id(); }
int spm_eos_id(const spm_processor *processor) { return processor->processor.eos_id(); }
int spm_unk_id(const spm_processor *processor) { return processor->processor.unk_id(); }
int spm_pad_id(const spm_processor *processor) { return processor->processor.pad_id(); }
int spm_is_control(const spm_processor *processor, int id) { return processor->processor.IsControl(id) ? 1 : 0; }
int spm_is_byte(const spm_processor *processor, int id) { return processor->processor.IsByte(id) ? 1 : 0; }
int spm_is_unknown(const spm_processor *processor, int id) { return processor->processor.IsUnknown(id) ? 1 : 0; }
int spm_is_unused(const spm_processor *processor, int id) { return processor->processor.IsUnused(id) ? 1 : 0; }
float spm_get_score(const spm_processor *processor, int id) { return processor->processor.GetScore(id); }

char *spm_train(const char *options) {
    auto status = sentencepiece::SentencePieceTrainer::Train(options);
    if (status.ok()) return nullptr;
    return copy_string(status.ToString());
}

void spm_set_min_log_level(int level) { sentencepiece::logging::SetMinLogLevel(level); }
void spm_set_random_seed(unsigned int seed) { sentencepiece::SetRandomGeneratorSeed(seed); }

void spm_free_string(char *string) { std::free(string); }

}  // extern "C"
