package inference

import (
	"encoding/json"
	"fmt"
)

// The model file is decoded as a stream: the trees, which are nearly all of a large
// model's bytes, are decoded one at a time, so a 13 MB model never sits whole in memory
// (it must load within a 64 MiB container).

// object reads a JSON object from dec and calls field for each key; field must consume
// the value.
func object(dec *json.Decoder, field func(key string) error) error {
	if err := delim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("object key %v is not a string", tok)
		}
		if err := field(key); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return delim(dec, '}')
}

func delim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("got %v, want %v", tok, want)
	}
	return nil
}

func skip(dec *json.Decoder) error {
	var v json.RawMessage
	return dec.Decode(&v)
}

func decodeModel(dec *json.Decoder, jm *jsonModel) error {
	l := &jm.Learner
	return object(dec, func(key string) error {
		switch key {
		case "version":
			return dec.Decode(&jm.Version)
		case "learner":
			return object(dec, func(key string) error {
				switch key {
				case "attributes":
					return dec.Decode(&l.Attributes)
				case "feature_names":
					return dec.Decode(&l.FeatureNames)
				case "feature_types":
					return dec.Decode(&l.FeatureTypes)
				case "learner_model_param":
					return dec.Decode(&l.LearnerModelParm)
				case "objective":
					return dec.Decode(&l.Objective)
				case "gradient_booster":
					gb, err := decodeBooster(dec)
					l.GradientBooster = gb
					return err
				}
				return skip(dec)
			})
		}
		return skip(dec)
	})
}

func decodeBooster(dec *json.Decoder) (*jsonBooster, error) {
	gb := &jsonBooster{}
	err := object(dec, func(key string) error {
		switch key {
		case "name":
			return dec.Decode(&gb.Name)
		case "weight_drop":
			return dec.Decode(&gb.WeightDrop)
		case "gbtree":
			inner, err := decodeBooster(dec)
			gb.GBTree = inner
			return err
		case "model":
			// gbtree's model; gblinear's "model" is an object without trees.
			gb.Model = &jsonGBTree{}
			return object(dec, func(key string) error {
				switch key {
				case "gbtree_model_param":
					return dec.Decode(&gb.Model.Params)
				case "tree_info":
					return dec.Decode(&gb.Model.TreeInfo)
				case "trees":
					if err := delim(dec, '['); err != nil {
						return err
					}
					for dec.More() {
						gb.Model.Trees = append(gb.Model.Trees, jsonTree{})
						if err := dec.Decode(&gb.Model.Trees[len(gb.Model.Trees)-1]); err != nil {
							return fmt.Errorf("tree %d: %w", len(gb.Model.Trees)-1, err)
						}
					}
					return delim(dec, ']')
				}
				return skip(dec)
			})
		}
		return skip(dec)
	})
	return gb, err
}
