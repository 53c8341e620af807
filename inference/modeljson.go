package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// The model file is read by a small scanner instead of encoding/json: the trees' numeric
// arrays are nearly all of a model's bytes, and reading them directly into typed slices
// is several times faster than reflection (the 11.6 MB large model loads in a fraction
// of a second) and allocates only the arrays the evaluator keeps. The small parts
// (feature names, parameters, attributes) still go through encoding/json. The scanner
// never reads out of bounds, whatever the input (FuzzReadModel).

type scanner struct {
	b []byte
	i int
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return s.errorf("unexpected end of input, want %q", c)
		}
		return s.errorf("got %q, want %q", s.b[s.i], c)
	}
	s.i++
	return nil
}

// str reads a string.
func (s *scanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.i
	escaped := false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			if !escaped {
				return string(s.b[start : s.i-1]), nil
			}
			v, err := strconv.Unquote(string(s.b[start-1 : s.i]))
			if err != nil {
				return "", s.errorf("bad string: %v", err)
			}
			return v, nil
		}
		s.i++
	}
	return "", s.errorf("unterminated string")
}

// skip passes over one value of any kind.
func (s *scanner) skip() error {
	depth := 0
	for {
		switch c := s.peek(); c {
		case 0:
			return s.errorf("unexpected end of input")
		case '"':
			if _, err := s.str(); err != nil {
				return err
			}
		case '{', '[':
			depth++
			s.i++
			continue
		case '}', ']':
			if depth == 0 {
				return s.errorf("unexpected %q", c)
			}
			depth--
			s.i++
		case ',', ':':
			if depth == 0 {
				return s.errorf("unexpected %q", c)
			}
			s.i++
			continue
		default:
			start := s.i
			for s.i < len(s.b) && isLiteralByte(s.b[s.i]) {
				s.i++
			}
			if s.i == start {
				return s.errorf("unexpected %q", c)
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func isLiteralByte(c byte) bool {
	return isNumberByte(c) || (c >= 'a' && c <= 'z')
}

// raw returns the bytes of the next value.
func (s *scanner) raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// decode reads the next value with encoding/json.
func (s *scanner) decode(v any) error {
	r, err := s.raw()
	if err != nil {
		return err
	}
	return json.Unmarshal(r, v)
}

// object reads an object, calling field for each key; field must consume the value.
func (s *scanner) object(field func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errorf("want ',' or '}' after the value of %q", key)
		}
	}
}

// array reads an array, calling elem for each element; elem must consume it.
func (s *scanner) array(elem func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errorf("want ',' or ']' in an array")
		}
	}
}

// number reads a number; true and false read as 1 and 0 (some writers store
// default_left as booleans).
func (s *scanner) number(bits int) (float64, error) {
	s.ws()
	start := s.i
	for s.i < len(s.b) && isLiteralByte(s.b[s.i]) {
		s.i++
	}
	tok := s.b[start:s.i]
	switch string(tok) {
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	}
	v, err := strconv.ParseFloat(string(tok), bits)
	if err != nil {
		s.i = start
		return 0, s.errorf("want a number, got %q", truncate(string(tok), 20))
	}
	return v, nil
}

func (s *scanner) floats(dst *[]float32) error {
	return s.array(func() error {
		v, err := s.number(32)
		*dst = append(*dst, float32(v))
		return err
	})
}

// integer reads an integral number, quickly when it is written as plain digits.
func (s *scanner) integer() (int64, error) {
	s.ws()
	start := s.i
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	var v int64
	digits := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && digits < 18 {
		v = v*10 + int64(s.b[s.i]-'0')
		s.i++
		digits++
	}
	if digits == 0 || (s.i < len(s.b) && isLiteralByte(s.b[s.i])) { // 1.0, 1e3, true, ...
		s.i = start
		f, err := s.number(64)
		if err != nil {
			return 0, err
		}
		if f != float64(int64(f)) || f < -1<<53 || f > 1<<53 {
			return 0, s.errorf("%v is not an integer", f)
		}
		return int64(f), nil
	}
	if neg {
		v = -v
	}
	return v, nil
}

func (s *scanner) ints(dst *[]int32) error {
	return s.array(func() error {
		v, err := s.integer()
		if err == nil && v != int64(int32(v)) {
			err = s.errorf("%d is not a 32-bit integer", v)
		}
		*dst = append(*dst, int32(v))
		return err
	})
}

func (s *scanner) int64s(dst *[]int64) error {
	return s.array(func() error {
		v, err := s.integer()
		*dst = append(*dst, v)
		return err
	})
}

func (s *scanner) bytes(dst *[]uint8) error {
	return s.array(func() error {
		v, err := s.integer()
		if err == nil && (v < 0 || v > 255) {
			err = s.errorf("%d is not a small integer", v)
		}
		*dst = append(*dst, uint8(v))
		return err
	})
}

func decodeModel(data []byte, jm *jsonModel) error {
	s := &scanner{b: data}
	l := &jm.Learner
	err := s.object(func(key string) error {
		switch key {
		case "version":
			return s.decode(&jm.Version)
		case "learner":
			return s.object(func(key string) error {
				switch key {
				case "attributes":
					return s.decode(&l.Attributes)
				case "feature_names":
					return s.decode(&l.FeatureNames)
				case "feature_types":
					return s.decode(&l.FeatureTypes)
				case "learner_model_param":
					return s.decode(&l.LearnerModelParm)
				case "objective":
					return s.decode(&l.Objective)
				case "gradient_booster":
					gb, err := decodeBooster(s)
					l.GradientBooster = gb
					return err
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return err
	}
	if s.peek() != 0 {
		return s.errorf("unexpected data after the model")
	}
	return nil
}

func decodeBooster(s *scanner) (*jsonBooster, error) {
	gb := &jsonBooster{}
	err := s.object(func(key string) error {
		switch key {
		case "name":
			return s.decode(&gb.Name)
		case "weight_drop":
			return s.floats(&gb.WeightDrop)
		case "gbtree":
			inner, err := decodeBooster(s)
			gb.GBTree = inner
			return err
		case "model":
			if s.peek() != '{' {
				return s.skip()
			}
			gb.Model = &jsonGBTree{}
			return s.object(func(key string) error {
				switch key {
				case "gbtree_model_param":
					return s.decode(&gb.Model.Params)
				case "tree_info":
					return s.ints(&gb.Model.TreeInfo)
				case "trees":
					var t jsonTree // reused: only the evaluator's layout is kept
					f := &gb.Model.Forest
					return s.array(func() error {
						t = jsonTree{
							LeftChildren: t.LeftChildren[:0], RightChildren: t.RightChildren[:0],
							SplitIndices: t.SplitIndices[:0], SplitConditions: t.SplitConditions[:0],
							DefaultLeft: t.DefaultLeft[:0], SplitType: t.SplitType[:0],
						}
						err := decodeTree(s, &t)
						if err == nil {
							err = f.add(&t)
						}
						if err != nil {
							return fmt.Errorf("tree %d: %w", len(f.roots), err)
						}
						return nil
					})
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err == nil && gb.Name == "" {
		err = errors.New("booster without a name")
	}
	return gb, err
}

func decodeTree(s *scanner, t *jsonTree) error {
	return s.object(func(key string) error {
		switch key {
		case "left_children":
			return s.ints(&t.LeftChildren)
		case "right_children":
			return s.ints(&t.RightChildren)
		case "split_indices":
			return s.int64s(&t.SplitIndices)
		case "split_conditions":
			return s.floats(&t.SplitConditions)
		case "default_left":
			return s.bytes(&t.DefaultLeft)
		case "split_type":
			return s.bytes(&t.SplitType)
		case "tree_param":
			return s.decode(&t.TreeParam)
		}
		return s.skip()
	})
}
