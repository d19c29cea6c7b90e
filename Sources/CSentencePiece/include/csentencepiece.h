// C shim over libsentencepiece's C++ API. Placeholder: the tokenizer work fills it in.
#ifndef CSENTENCEPIECE_H
#define CSENTENCEPIECE_H
#ifdef __cplusplus
extern "C" {
#endif
int spm_shim_version(void);
#ifdef __cplusplus
}
#endif
#endif
