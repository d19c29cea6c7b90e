// Admission for continuous batching: which waiting sample takes each free cache slot, and how it gets
// its prompt's keys and values without a second prefill.
//   - A request is prefilled once, into the first free slot it is given, and the logits of its last
//     position are kept until its last sample is admitted: every sample draws its first token from
//     them with its own RNG. The requests admitted in one round are prefilled together, several
//     prompts per IncrementalForward call while their rows fit the decoding kernel (`prefill`).
//   - Its other samples take free slots then or later; each gets the prompt's cache rows (positions
//     0..<promptLength, every layer) copied from the request's prompt slot.
//   - A slot keeps its prompt rows while its sequence decodes and after it finishes (decoding writes
//     positions >= promptLength only), until the slot goes to another request. So the prompt slot of
//     a request with waiting samples, once freed, goes to that request's next sample first (no copy),
//     and it stays held by one of the request's samples while any of them waits.
// Free slots go to waiting requests in request order, then to new requests in request order.
// Admission decides when a sample starts, never what it generates: its first token comes from the
// prompt's one prefill, its cache rows are exact copies, its RNG is a function of (seed, sample).
import PlumbTensor

/// A request whose prompt has been through the model, with samples still to admit.
struct PrefilledRequest {
    let request: Int
    /// The next sample to admit; the request is done when it reaches the request's sample count.
    var nextSample = 0
    /// A slot holding the prompt's cache rows: the prefill's slot.
    let promptSlot: Int
    /// (1, V): the logits of the prompt's last position.
    let logits: Tensor
}

/// The requests of one `stream` call not yet fully admitted.
final class AdmissionQueue {
    let requests: [GenerationRequest]
    /// The first request not yet prefilled.
    var nextRequest = 0
    /// Prefilled requests with samples still waiting, in request order.
    var waiting: [PrefilledRequest] = []

    init(requests: [GenerationRequest]) { self.requests = requests }

    var isEmpty: Bool { nextRequest == requests.count && waiting.isEmpty }
}

extension Generator {
    /// Gives the free slots to waiting samples (see the file's comment). Returns the prompts prefilled
    /// and the calls that prefilled them.
    func admit(_ queue: AdmissionQueue, state: inout DecodeBatch, engine: IncrementalForward, options: GenerationOptions) throws -> (Int, Int) {
        var free = state.freeSlots
        try admitWaiting(queue, free: &free, state: &state, engine: engine, options: options)
        return try admitNew(queue, free: &free, state: &state, engine: engine, options: options)
    }

    /// Free slots to the samples of prefilled requests: first each request's own prompt slot, if
    /// freed (the rows are in place), then the others in request order (the prompt slots are now held).
    @inline(never)
    private func admitWaiting(_ queue: AdmissionQueue, free: inout [Int], state: inout DecodeBatch, engine: IncrementalForward,
                              options: GenerationOptions) throws {
        let requests = queue.requests
        for w in queue.waiting.indices {
            if let at = free.firstIndex(of: queue.waiting[w].promptSlot) {
                let slot = free.remove(at: at)
                try admitSample(of: &queue.waiting[w], slot: slot, requests, state: &state, engine: engine, options: options)
            }
        }
        for w in queue.waiting.indices {
            while queue.waiting[w].nextSample < requests[queue.waiting[w].request].samples, !free.isEmpty {
                let slot = free.removeFirst()
                try admitSample(of: &queue.waiting[w], slot: slot, requests, state: &state, engine: engine, options: options)
            }
        }
        queue.waiting.removeAll { $0.nextSample == requests[$0.request].samples }
    }

    /// Free slots to new requests, in order, while a slot is free (`.wholeRequest`: while all k
    /// samples fit): each takes the first free slot for its prompt, then free slots for its samples.
    /// Returns the prompts prefilled and the calls that prefilled them.
    @inline(never)
    private func admitNew(_ queue: AdmissionQueue, free: inout [Int], state: inout DecodeBatch, engine: IncrementalForward,
                          options: GenerationOptions) throws -> (Int, Int) {
        let requests = queue.requests
        var admitted: [(request: Int, promptSlot: Int)] = []   // this round's new requests, decided first
        var left = free.count
        for r in queue.nextRequest..<requests.count {
            guard left > 0, admission == .perSlot || requests[r].samples <= left else { break }
            admitted.append((r, free[free.count - left]))
            left -= min(requests[r].samples, left)
        }
        let (logits, calls) = try prefill(admitted.map { ($0.request, $0.promptSlot) }, requests, engine: engine)
        for (j, a) in admitted.enumerated() {
            let promptSlot = free.removeFirst()
            assert(promptSlot == a.promptSlot)
            var prefilled = PrefilledRequest(request: a.request, promptSlot: promptSlot, logits: logits[j])
            queue.nextRequest += 1
            try admitSample(of: &prefilled, slot: promptSlot, requests, state: &state, engine: engine, options: options)
            while prefilled.nextSample < requests[a.request].samples, !free.isEmpty {
                try admitSample(of: &prefilled, slot: free.removeFirst(), requests, state: &state, engine: engine, options: options)
            }
            if prefilled.nextSample < requests[a.request].samples { queue.waiting.append(prefilled) }
        }
        return (admitted.count, calls)
    }

    /// Runs each (request, slot)'s prompt through the model into the slot's cache positions
    /// 0..<count; returns each prompt's last-position logits (1, V) and the calls made. Consecutive
    /// prompts share a call while their rows total at most `MatVec.kernelRows` (and the engine's
    /// rows): those products run the decoding kernel, which gives a row the same bits whatever else is
    /// in its call, and attention is per row, so a prompt's keys, values and logits are those of a
    /// call of its own, and its samples do not depend on which prompts were admitted with it. A longer
    /// prompt goes alone (its products take sgemm, whose rounding depends on the row count).
    private func prefill(_ prompts: [(request: Int, slot: Int)], _ requests: [GenerationRequest],
                         engine: IncrementalForward) throws -> ([Tensor], Int) {
        let most = min(MatVec.kernelRows, engine.maxRows), vocab = config.vocabSize
        var logits: [Tensor] = [], calls = 0, start = 0
        while start < prompts.count {
            var end = start + 1, rows = requests[prompts[start].request].prompt.count
            while end < prompts.count, rows + requests[prompts[end].request].prompt.count <= most {
                rows += requests[prompts[end].request].prompt.count
                end += 1
            }
            var tokens: [Int32] = [], slots: [Int] = [], positions: [Int32] = [], last: [Int] = []
            for (request, slot) in prompts[start..<end] {
                let prompt = requests[request].prompt
                tokens += prompt
                slots += [Int](repeating: slot, count: prompt.count)
                positions += (0..<prompt.count).map(Int32.init)
                last.append(tokens.count - 1)
            }
            let together = Tensor(zeros: [end - start, vocab])   // (prompts of the call, V)
            try engine.forward(tokens: tokens, slots: slots, positions: positions, logitRows: last, logits: together)
            for j in 0..<(end - start) {
                let one = Tensor(zeros: [1, vocab])
                one.pointer.update(from: together.pointer + j * vocab, count: vocab)
                logits.append(one)
            }
            calls += 1
            start = end
        }
        return (logits, calls)
    }

    /// Places the next sample of `prefilled` in the free `slot`: the prompt's cache rows are copied
    /// there (nothing to copy in the prompt slot itself) and the sample draws its first token.
    private func admitSample(of prefilled: inout PrefilledRequest, slot: Int, _ requests: [GenerationRequest], state: inout DecodeBatch,
                             engine: IncrementalForward, options: GenerationOptions) throws {
        let request = requests[prefilled.request]
        try engine.cache.copyPrefix(from: prefilled.promptSlot, to: slot, length: request.prompt.count)
        withExtendedLifetime(prefilled.logits) {
            state.admit(slot: slot, request: prefilled.request, sample: prefilled.nextSample, seed: request.seed,
                        promptLength: request.prompt.count, logits: prefilled.logits.pointer, options: options, capacity: capacity)
        }
        prefilled.nextSample += 1
    }
}
