// The chat templates in the forms other runtimes read, for GGUF export: a Jinja template
// (`tokenizer.chat_template`, rendered by llama.cpp and llama-cpp-python with `messages`, `bos_token`,
// `eos_token`, `add_generation_prompt`) and an Ollama Modelfile template (Go text/template over
// `.Messages`) with its stop strings.
//
// The rendered text, tokenised by llama.cpp with special pieces parsed and a space prefix after each
// special token (SentencePiece's dummy prefix, `tokenizer.ggml.add_space_prefix`), gives the ids of
// `TemplatedTokenizer.encodePrompt`, which encodes each message on its own between special ids:
// pipelines/check-gguf.sh compares the two on several conversations.

extension ChatTemplate {
    /// The template in Jinja, formatting a conversation exactly as `TemplatedTokenizer` does.
    public var jinja: String {
        switch self {
        case .plumbline:
            return "{{ bos_token }}{% for message in messages %}"
                + "{% if message['role'] == 'system' %}<|system|>{% elif message['role'] == 'user' %}<|user|>{% else %}<|assistant|>{% endif %}"
                + "{{ message['content'] }}{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
                + "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
        case .llama2:
            // Meta's chat_completion: the system prompt folded into the first user turn, each user turn
            // "<s>[INST] ... [/INST]", each answer " {answer}</s>".
            return "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] %}{% set turns = messages[1:] %}"
                + "{% else %}{% set system = none %}{% set turns = messages %}{% endif %}"
                + "{% for message in turns %}{% if message['role'] == 'user' %}"
                + "{% if loop.first and system is not none %}{% set content = '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' + message['content'] %}"
                + "{% else %}{% set content = message['content'] %}{% endif %}"
                + "{{ bos_token + '[INST] ' + content + ' [/INST]' }}"
                + "{% else %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}"
        }
    }

    /// The template for an Ollama Modelfile (`TEMPLATE`); Ollama puts BOS first itself (add_bos_token).
    public var ollamaTemplate: String {
        switch self {
        case .plumbline:
            return "{{- range .Messages }}"
                + "{{- if eq .Role \"system\" }}<|system|>{{ else if eq .Role \"user\" }}<|user|>{{ else }}<|assistant|>{{ end }}"
                + "{{ .Content }}{{ if eq .Role \"assistant\" }}</s>{{ end }}"
                + "{{- end }}<|assistant|>"
        case .llama2:
            return "{{- $system := \"\" }}{{- $first := true }}{{- range .Messages }}"
                + "{{- if eq .Role \"system\" }}{{ $system = .Content }}"
                + "{{- else if eq .Role \"user\" }}{{ if not $first }}<s>{{ end }}[INST] "
                + "{{ if $system }}<<SYS>>\n{{ $system }}\n<</SYS>>\n\n{{ $system = \"\" }}{{ end }}{{ .Content }} [/INST]{{ $first = false }}"
                + "{{- else }} {{ .Content }}</s>{{- end }}{{- end }}"
        }
    }

    /// Strings that end an answer in Ollama: EOS, and the piece that would start the next turn.
    public var ollamaStops: [String] {
        switch self {
        case .plumbline: return ["</s>", "<|user|>", "<|system|>"]
        case .llama2: return ["</s>", "[INST]"]
        }
    }
}
