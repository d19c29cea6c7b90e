// C shim over libsentencepiece's C++ API. See include/csentencepiece.h for ownership rules.
#include "csentencepiece.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
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


// Protocol-buffer wire format, as far as rewriting two string fields of the model needs it
// (https://protobuf.dev/programming-guides/encoding/): a field is a varint tag (number << 3 | wire
// type) then its value; wire type 0 is a varint, 1 eight bytes, 2 a varint length and that many
// bytes, 5 four bytes.
bool read_varint(const std::string &bytes, size_t &at, uint64_t &value) {
    value = 0;
    for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
        uint8_t byte = static_cast<uint8_t>(bytes[at++]);
        value |= static_cast<uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

void write_varint(std::string &out, uint64_t value) {
    while (value >= 0x80) { out.push_back(static_cast<char>((value & 0x7f) | 0x80)); value >>= 7; }
    out.push_back(static_cast<char>(value));
}

void write_bytes_field(std::string &out, uint64_t number, const std::string &value) {
    write_varint(out, number << 3 | 2);
    write_varint(out, value.size());
    out += value;
}

/// One field of a message: its number, wire type, and the bytes of its value (for wire type 2,
/// without the length). Returns false on malformed input.
bool next_field(const std::string &bytes, size_t &at, uint64_t &number, uint64_t &wire, std::string &value) {
    uint64_t tag = 0;
    if (!read_varint(bytes, at, tag)) return false;
    number = tag >> 3;
    wire = tag & 7;
    size_t start = at;
    uint64_t length = 0;
    switch (wire) {
    case 0: if (!read_varint(bytes, at, length)) return false; break;
    case 1: at += 8; break;
    case 2:
        if (!read_varint(bytes, at, length) || length > bytes.size() - at) return false;
        start = at;
        at += length;
        break;
    case 5: at += 4; break;
    default: return false;
    }
    if (at > bytes.size()) return false;
    value = bytes.substr(start, at - start);
    return true;
}

void write_field(std::string &out, uint64_t number, uint64_t wire, const std::string &value) {
    if (wire == 2) return write_bytes_field(out, number, value);
    write_varint(out, number << 3 | wire);
    out += value;
}

std::string last_component(const std::string &path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// TrainerSpec (sentencepiece_model.proto): field 1 `input` (repeated string), field 2
// `model_prefix` (string). Each keeps only its file name; every other field is copied as it is.
bool relativise_trainer_spec(const std::string &spec, std::string &out) {
    size_t at = 0;
    while (at < spec.size()) {
        uint64_t number = 0, wire = 0;
        std::string value;
        if (!next_field(spec, at, number, wire, value)) return false;
        if ((number == 1 || number == 2) && wire == 2) value = last_component(value);
        write_field(out, number, wire, value);
    }
    return true;
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

int spm_relativise_trainer_paths(const char *model_file, char **error) {
    std::string path(model_file);
    std::ifstream in(path, std::ios::binary);
    if (!in) { set_error(error, path + ": cannot open the trained model"); return 1; }
    std::string model((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    // ModelProto: field 2 is `trainer_spec`.
    std::string out;
    size_t at = 0;
    while (at < model.size()) {
        uint64_t number = 0, wire = 0;
        std::string value;
        if (!next_field(model, at, number, wire, value)) { set_error(error, path + ": malformed model at byte " + std::to_string(at)); return 1; }
        if (number == 2 && wire == 2) {
            std::string spec;
            if (!relativise_trainer_spec(value, spec)) { set_error(error, path + ": malformed trainer_spec"); return 1; }
            value = spec;
        }
        write_field(out, number, wire, value);
    }
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(out.data(), static_cast<std::streamsize>(out.size()));
    if (!file) { set_error(error, path + ": cannot write the model"); return 1; }
    return 0;
}

void spm_set_min_log_level(int level) { sentencepiece::logging::SetMinLogLevel(level); }
void spm_set_random_seed(unsigned int seed) { sentencepiece::SetRandomGeneratorSeed(seed); }

void spm_free_string(char *string) { std::free(string); }

}  // extern "C"
