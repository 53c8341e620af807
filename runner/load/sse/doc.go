// Package sse reads a streamed answer as Server-Sent Events as it arrives and
// times its tokens, the way vLLM's and genai-perf's benchmark clients do.
//
// A token is an event whose data carries content: for OpenAI-style bodies a
// non-empty choices[].text (completions) or choices[].delta.content (chat); a
// chat chunk that only carries the role is not a token. Data in any other shape
// (not JSON, or JSON without choices) counts as one token. The stream ends with
// the data "[DONE]"; usage.completion_tokens, when an event carries it, gives the
// output token count.
//
// Every failure has its own sentinel error (ErrStatus, ErrNotEventStream,
// ErrNoDone, ErrCutEvent, ErrStall, ErrMalformed, ErrLineTooLong, ErrServer), so
// reports count them apart. Memory per stream is bounded: lines are read through
// a small buffer and a line longer than Options.MaxLineBytes fails the stream.
//
// The package has no dependencies beyond the standard library.
package sse
