package inference

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/x448/float16"
)

// LLMConfig is the shape of a generative model, read from its file's metadata.
type LLMConfig struct {
	// Layers is the number of transformer blocks.
	Layers int
	// Heads is the number of attention heads; Width must be a multiple of it.
	Heads int
	// Width is the model dimension.
	Width int
	// Context is the longest sequence, prompt and generated tokens together.
	Context int
	// Vocab is the number of tokens: 256 bytes and the end of text.
	Vocab int
	// EOS is the end of text token.
	EOS int
}

// LLM is a small decoder-only transformer over bytes (see inference/train/llm.py),
// evaluated in float32. It is immutable and safe for concurrent use; the state of a
// sequence lives in its [KVCache].
type LLM struct {
	Config LLMConfig
	// Name is the model's name in the API ("fortune-1.8m" for the embedded one).
	Name string
	// Meta is the file's metadata (corpus, steps, seed, ...).
	Meta map[string]string
	// Params is the number of parameters.
	Params int

	tok, pos     []float32 // [Vocab, Width], [Context, Width]
	lnfW, lnfB   []float32
	logits       linear // Width -> Vocab: the tied output embedding, tok
	layers       []llmLayer
	headDim      int
	scale        float32
	bytesPerSlot int64 // KV-cache bytes of one position
}

type llmLayer struct {
	ln1W, ln1B, ln2W, ln2B []float32
	qkv                    linear // Width -> 3*Width: q, k and v weights stacked
	o                      linear // Width -> Width
	fc                     linear // Width -> 4*Width
	proj                   linear // 4*Width -> Width
}

type stTensor struct {
	Dtype   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
	data    []float32
}

// LoadLLMFile reads a model in the safetensors format written by train/llm.py.
func LoadLLMFile(path string) (*LLM, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	return ParseLLM("file:"+path, b)
}

// ParseLLM parses a safetensors file: a little-endian uint64 header length, a JSON
// header (tensor name -> dtype F16 or F32, shape, byte offsets; __metadata__ -> the
// configuration as strings), then the tensor data.
func ParseLLM(name string, b []byte) (*LLM, error) {
	tensors, meta, err := readSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	m := &LLM{Name: name, Meta: meta}
	if err := m.configure(meta); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	if err := m.bind(tensors); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	for _, t := range tensors {
		m.Params += len(t.data)
	}
	return m, nil
}

func readSafetensors(b []byte) (map[string]*stTensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("not a safetensors file: %d bytes", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) || n > 1<<24 {
		return nil, nil, fmt.Errorf("not a safetensors file: header of %d bytes in a file of %d", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, nil, fmt.Errorf("bad safetensors header: %w", err)
	}
	data := b[8+n:]
	meta := map[string]string{}
	tensors := map[string]*stTensor{}
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, fmt.Errorf("bad metadata: %w", err)
			}
			continue
		}
		t := &stTensor{}
		if err := json.Unmarshal(v, t); err != nil {
			return nil, nil, fmt.Errorf("tensor %s: %w", k, err)
		}
		if err := t.decode(data); err != nil {
			return nil, nil, fmt.Errorf("tensor %s: %w", k, err)
		}
		tensors[k] = t
	}
	return tensors, meta, nil
}

func (t *stTensor) decode(data []byte) error {
	size := map[string]int{"F16": 2, "F32": 4}[t.Dtype]
	if size == 0 {
		return fmt.Errorf("dtype %q is not supported (F16 or F32)", t.Dtype)
	}
	n := 1
	for _, d := range t.Shape {
		if d <= 0 || d > 1<<24 {
			return fmt.Errorf("bad shape %v", t.Shape)
		}
		n *= d
	}
	a, e := t.Offsets[0], t.Offsets[1]
	if a < 0 || e > len(data) || e-a != n*size {
		return fmt.Errorf("data offsets %v do not hold shape %v of %s in %d bytes", t.Offsets, t.Shape, t.Dtype, len(data))
	}
	t.data = make([]float32, n)
	raw := data[a:e]
	for i := range t.data {
		if size == 2 {
			t.data[i] = float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
		} else {
			t.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	return nil
}

func (m *LLM) configure(meta map[string]string) error {
	c := &m.Config
	for _, f := range []struct {
		key string
		dst *int
	}{{"layers", &c.Layers}, {"heads", &c.Heads}, {"width", &c.Width}, {"context", &c.Context}, {"vocab", &c.Vocab}, {"eos", &c.EOS}} {
		n, err := strconv.Atoi(meta[f.key])
		if err != nil || n <= 0 || n > 1<<16 {
			return fmt.Errorf("metadata %q = %q: want a positive integer", f.key, meta[f.key])
		}
		*f.dst = n
	}
	if c.Width%c.Heads != 0 || c.Vocab < 257 || c.EOS >= c.Vocab {
		return fmt.Errorf("inconsistent configuration %+v", *c)
	}
	m.headDim = c.Width / c.Heads
	m.scale = float32(1 / math.Sqrt(float64(m.headDim)))
	m.bytesPerSlot = int64(c.Layers) * 2 * int64(c.Width) * 4
	return nil
}

func (m *LLM) bind(ts map[string]*stTensor) error {
	c := m.Config
	d := c.Width
	var missing []string
	get := func(name string, shape ...int) []float32 {
		t := ts[name]
		if t == nil || fmt.Sprint(t.Shape) != fmt.Sprint(shape) {
			missing = append(missing, fmt.Sprintf("%s%v", name, shape))
			return make([]float32, prod(shape))
		}
		return t.data
	}
	m.tok = get("tok.weight", c.Vocab, d)
	m.pos = get("pos.weight", c.Context, d)
	m.lnfW, m.lnfB = get("ln_f.weight", d), get("ln_f.bias", d)
	m.layers = make([]llmLayer, c.Layers)
	for i := range m.layers {
		p := "blocks." + strconv.Itoa(i) + "."
		l := &m.layers[i]
		l.ln1W, l.ln1B = get(p+"ln1.weight", d), get(p+"ln1.bias", d)
		l.ln2W, l.ln2B = get(p+"ln2.weight", d), get(p+"ln2.bias", d)
		var qkv, qkvB []float32
		for _, n := range []string{"q", "k", "v"} {
			qkv = append(qkv, get(p+n+".weight", d, d)...)
			qkvB = append(qkvB, get(p+n+".bias", d)...)
		}
		l.qkv = newLinear(qkv, qkvB, d, 3*d)
		l.o = newLinear(get(p+"o.weight", d, d), get(p+"o.bias", d), d, d)
		l.fc = newLinear(get(p+"fc.weight", 4*d, d), get(p+"fc.bias", 4*d), d, 4*d)
		l.proj = newLinear(get(p+"proj.weight", d, 4*d), get(p+"proj.bias", d), 4*d, d)
	}
	m.logits = newLinear(m.tok, nil, d, c.Vocab)
	if len(missing) > 0 {
		return fmt.Errorf("missing or misshaped tensors: %v", missing)
	}
	return nil
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

// KVBytes returns the bytes of KV cache that n positions of one sequence take.
func (m *LLM) KVBytes(n int) int64 { return int64(n) * m.bytesPerSlot }

// Encode returns the tokens of s: its UTF-8 bytes.
func (m *LLM) Encode(s string) []int {
	t := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		t[i] = int(s[i])
	}
	return t
}

// KVCache holds the keys and values of one sequence's positions, for every layer.
type KVCache struct {
	k, v [][]float32 // per layer: [Heads, positions, Width/Heads], each head's run contiguous
	n    int         // positions filled
	cap  int
}

// NewCache returns a cache for up to n positions (at most the model's context).
func (m *LLM) NewCache(n int) *KVCache {
	n = min(n, m.Config.Context)
	c := &KVCache{k: make([][]float32, m.Config.Layers), v: make([][]float32, m.Config.Layers), cap: n}
	for i := range c.k {
		c.k[i] = make([]float32, n*m.Config.Width)
		c.v[i] = make([]float32, n*m.Config.Width)
	}
	return c
}

// Len returns the positions filled.
func (c *KVCache) Len() int { return c.n }

// Cap returns the positions the cache holds.
func (c *KVCache) Cap() int { return c.cap }
