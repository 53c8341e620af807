package inference

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// ErrUnsupportedModel is wrapped by errors for model files that are valid XGBoost JSON
// but use a feature this evaluator does not implement (gblinear, categorical splits,
// vector leaves, ranking objectives).
var ErrUnsupportedModel = errors.New("unsupported model")

// Kind says how a model's output is read.
type Kind int

const (
	// Classifier models answer a class index and, except binary:hinge, the probability of
	// every class.
	Classifier Kind = iota
	// Regressor models answer one value.
	Regressor
)

func (k Kind) String() string {
	if k == Classifier {
		return "classifier"
	}
	return "regressor"
}

// transform turns the margins of an instance into the model's output.
type transform int

const (
	identity     transform = iota // regression: value = margin
	sigmoidValue                  // reg:logistic: value = sigmoid(margin)
	expValue                      // count:poisson, reg:gamma, reg:tweedie, survival:cox
	sigmoidClass                  // binary:logistic, binary:logitraw: p(1) = sigmoid(margin)
	hingeClass                    // binary:hinge: class = margin > 0, no probabilities
	softmaxClass                  // multi:softprob, multi:softmax
)

// objectives maps the supported XGBoost objective names to their output transform.
var objectives = map[string]transform{
	"reg:squarederror":     identity,
	"reg:squaredlogerror":  identity,
	"reg:pseudohubererror": identity,
	"reg:absoluteerror":    identity,
	"reg:quantileerror":    identity,
	"reg:linear":           identity,
	"reg:logistic":         sigmoidValue,
	"count:poisson":        expValue,
	"reg:gamma":            expValue,
	"reg:tweedie":          expValue,
	"survival:cox":         expValue,
	"binary:logistic":      sigmoidClass,
	"binary:logitraw":      sigmoidClass,
	"binary:hinge":         hingeClass,
	"multi:softprob":       softmaxClass,
	"multi:softmax":        softmaxClass,
}

// node is one tree node, laid out so that the right child directly follows the left one.
type node struct {
	value float32 // split threshold, or the leaf value for leaves
	feat  uint32  // feature index, with defaultLeft set when missing values go left
	left  int32   // index of the left child in Model.nodes (right = left+1); -1 for leaves
}

const defaultLeft = 1 << 31

// Model is a loaded tree ensemble. It is immutable and safe for concurrent use.
type Model struct {
	// Name is how the model was selected ("default", "large" or the file path).
	Name string
	// Objective is the XGBoost objective, for example "multi:softprob".
	Objective string
	// Kind says whether the model is a classifier or a regressor.
	Kind Kind
	// Booster is the XGBoost booster: "gbtree" or "dart".
	Booster string
	// NumFeatures is the number of input features.
	NumFeatures int
	// NumClasses is the number of classes of a classifier (2 for binary objectives), 0 for
	// a regressor.
	NumClasses int
	// NumTrees is the number of trees.
	NumTrees int
	// NumNodes is the number of tree nodes.
	NumNodes int
	// MaxDepth is the depth of the deepest tree (a single leaf has depth 0).
	MaxDepth int
	// FeatureNames names the features: the model's own names, else f0, f1, ...
	FeatureNames []string
	// Attributes are the model's user attributes (XGBoost Booster.set_attr).
	Attributes map[string]string
	// XGBoostVersion is the version of XGBoost that saved the model.
	XGBoostVersion string
	// SizeBytes is the size of the model file as read (compressed size for gzip files).
	SizeBytes int64

	transform transform
	groups    int       // margins per instance: the number of classes, or 1
	base      []float32 // initial margin of each group
	nodes     []node
	roots     []int32 // root node of each tree
	treeGroup []int32 // output group of each tree
	featIndex map[string]int
}

// Outputs is the length of the output vector of [Model.Predict]: the number of classes of
// a classifier with probabilities, else 1.
func (m *Model) Outputs() int {
	switch m.transform {
	case softmaxClass, sigmoidClass:
		return m.NumClasses
	default:
		return 1
	}
}

// Groups is the number of margins per instance (the length of [Model.Margins]' output).
func (m *Model) Groups() int { return m.groups }

// FeatureIndex returns the index of a named feature.
func (m *Model) FeatureIndex(name string) (int, bool) {
	i, ok := m.featIndex[name]
	return i, ok
}

// Margins writes the raw sums (base margin plus the leaf value of every tree) of one
// instance into out, which must have [Model.Groups] elements. x holds
// [Model.NumFeatures] values; NaN means missing. Like XGBoost, it sums in float32.
func (m *Model) Margins(x []float32, out []float32) {
	_ = x[m.NumFeatures-1]
	copy(out[:m.groups], m.base)
	nodes := m.nodes
	if m.groups == 1 {
		s := out[0]
		for _, r := range m.roots {
			s += leaf(nodes, r, x)
		}
		out[0] = s
		return
	}
	for t, r := range m.roots {
		out[m.treeGroup[t]] += leaf(nodes, r, x)
	}
}

// leaf walks one tree from its root and returns the value of the leaf reached.
func leaf(nodes []node, i int32, x []float32) float32 {
	for {
		n := &nodes[i]
		if n.left < 0 {
			return n.value
		}
		v := x[n.feat&^defaultLeft]
		switch {
		case v < n.value:
			i = n.left
		case v >= n.value:
			i = n.left + 1
		case n.feat&defaultLeft != 0: // missing (NaN)
			i = n.left
		default:
			i = n.left + 1
		}
	}
}

// Predict computes the output of one instance: class probabilities for a classifier
// (out has [Model.Outputs] elements), or the value of a regressor (out[0]). It returns
// the predicted class (-1 for a regressor). margins is scratch space of [Model.Groups]
// elements.
func (m *Model) Predict(x []float32, margins []float32, out []float64) int {
	m.Margins(x, margins)
	switch m.transform {
	case identity:
		out[0] = float64(margins[0])
		return -1
	case sigmoidValue:
		out[0] = float64(sigmoid(margins[0]))
		return -1
	case expValue:
		out[0] = float64(float32(math.Exp(float64(margins[0]))))
		return -1
	case sigmoidClass:
		p := float64(sigmoid(margins[0]))
		out[0], out[1] = 1-p, p
		if margins[0] > 0 {
			return 1
		}
		return 0
	case hingeClass:
		if margins[0] > 0 {
			out[0] = 1
			return 1
		}
		out[0] = 0
		return 0
	default: // softmaxClass, as XGBoost's common::Softmax in float32
		mx := margins[0]
		best := 0
		for i, v := range margins[:m.groups] {
			if v > mx {
				mx, best = v, i
			}
		}
		var sum float64
		for i, v := range margins[:m.groups] {
			e := float32(math.Exp(float64(v - mx)))
			out[i] = float64(e)
			sum += float64(e)
		}
		for i := range out[:m.groups] {
			out[i] = float64(float32(out[i]) / float32(sum))
		}
		return best
	}
}

func sigmoid(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}

// The JSON model document, only the parts the evaluator needs.
type jsonModel struct {
	Learner struct {
		Attributes       map[string]string `json:"attributes"`
		FeatureNames     []string          `json:"feature_names"`
		FeatureTypes     []string          `json:"feature_types"`
		GradientBooster  *jsonBooster      `json:"-"`
		LearnerModelParm struct {
			BaseScore string `json:"base_score"`
			NumClass  string `json:"num_class"`
			NumFeat   string `json:"num_feature"`
			NumTarget string `json:"num_target"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
	} `json:"learner"`
	Version []int `json:"version"`
}

type jsonBooster struct {
	Name       string       `json:"name"`
	Model      *jsonGBTree  `json:"model"`  // gbtree
	GBTree     *jsonBooster `json:"gbtree"` // dart wraps a gbtree
	WeightDrop []float32    `json:"weight_drop"`
}

type jsonGBTree struct {
	Params struct {
		SizeLeafVector string `json:"size_leaf_vector"`
	}
	TreeInfo []int32
	Forest   forest // the trees, decoded one at a time
}

type jsonTree struct {
	LeftChildren    []int32   `json:"left_children"`
	RightChildren   []int32   `json:"right_children"`
	SplitIndices    []int64   `json:"split_indices"`
	SplitConditions []float32 `json:"split_conditions"`
	DefaultLeft     []uint8   `json:"default_left"`
	SplitType       []uint8   `json:"split_type"`
	TreeParam       struct {
		NumNodes       string `json:"num_nodes"`
		SizeLeafVector string `json:"size_leaf_vector"`
	} `json:"tree_param"`
}

// ReadModel parses an XGBoost JSON model (as written by Booster.save_model("x.json")),
// optionally gzip-compressed. name is recorded as [Model.Name].
func ReadModel(name string, r io.Reader) (*Model, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read model %s: %w", name, err)
	}
	return readModelBytes(name, b)
}

func readModelBytes(name string, b []byte) (*Model, error) {
	data := b
	if len(b) > 18 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("cannot read gzip model %s: %w", name, err)
		}
		// The gzip trailer holds the uncompressed size: read into a buffer of that size
		// rather than doubling one (a large model is 11.6 MB of text).
		size := int(binary.LittleEndian.Uint32(b[len(b)-4:]))
		// It is only a hint: a corrupt trailer must not allocate a gigabyte.
		buf := bytes.NewBuffer(make([]byte, 0, min(size, 32*len(b))+bytes.MinRead))
		_, err = buf.ReadFrom(zr)
		zr.Close()
		if err != nil {
			return nil, fmt.Errorf("cannot read gzip model %s: %w", name, err)
		}
		data = buf.Bytes()
	}
	var jm jsonModel
	if err := decodeModel(data, &jm); err != nil {
		return nil, fmt.Errorf("cannot parse model %s as XGBoost JSON: %w", name, err)
	}
	m, err := build(name, &jm)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	m.SizeBytes = int64(len(b))
	return m, nil
}

// LoadModelFile reads an XGBoost JSON model file (.json, or gzip-compressed .json.gz).
func LoadModelFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read model: %w", err)
	}
	return readModelBytes(path, b)
}

func build(name string, jm *jsonModel) (*Model, error) {
	l := &jm.Learner
	m := &Model{
		Name:       name,
		Objective:  l.Objective.Name,
		Attributes: l.Attributes,
	}
	if len(jm.Version) == 3 {
		m.XGBoostVersion = fmt.Sprintf("%d.%d.%d", jm.Version[0], jm.Version[1], jm.Version[2])
	}
	if m.Objective == "" {
		return nil, errors.New("no learner.objective.name: is this an XGBoost JSON model?")
	}
	tr, ok := objectives[m.Objective]
	if !ok {
		return nil, fmt.Errorf("%w: objective %q (supported: regression, binary, multi-class and count objectives)", ErrUnsupportedModel, m.Objective)
	}
	m.transform = tr
	nf, err := atoiParam("learner_model_param.num_feature", l.LearnerModelParm.NumFeat)
	if err != nil {
		return nil, err
	}
	if nf <= 0 || nf > 1<<20 {
		return nil, fmt.Errorf("learner_model_param.num_feature is %d, want 1..%d", nf, 1<<20)
	}
	m.NumFeatures = nf
	if t := l.LearnerModelParm.NumTarget; t != "" && t != "1" && t != "0" {
		return nil, fmt.Errorf("%w: %s targets (multi-output models)", ErrUnsupportedModel, t)
	}
	nc := 0
	if l.LearnerModelParm.NumClass != "" {
		if nc, err = atoiParam("learner_model_param.num_class", l.LearnerModelParm.NumClass); err != nil {
			return nil, err
		}
	}
	m.groups = 1
	switch tr {
	case softmaxClass:
		if nc < 2 || nc > 1<<16 {
			return nil, fmt.Errorf("objective %s with num_class %d, want 2..%d", m.Objective, nc, 1<<16)
		}
		m.groups, m.NumClasses, m.Kind = nc, nc, Classifier
	case sigmoidClass, hingeClass:
		m.NumClasses, m.Kind = 2, Classifier
	default:
		m.Kind = Regressor
	}

	if err := m.setFeatures(l.FeatureNames, l.FeatureTypes, nf); err != nil {
		return nil, err
	}

	base, err := parseBaseScore(l.LearnerModelParm.BaseScore, m.groups)
	if err != nil {
		return nil, err
	}
	m.base = make([]float32, m.groups)
	for i, b := range base {
		m.base[i] = probToMargin(tr, b)
	}

	if err := m.setBooster(l.GradientBooster); err != nil {
		return nil, err
	}
	return m, nil
}

// setFeatures sets the feature names: the model's own if it has them, else XGBoost's
// default f0, f1, ...
func (m *Model) setFeatures(names, types []string, nf int) error {
	m.FeatureNames = names
	if len(m.FeatureNames) == 0 {
		m.FeatureNames = make([]string, nf)
		for i := range m.FeatureNames {
			m.FeatureNames[i] = "f" + strconv.Itoa(i)
		}
	} else if len(m.FeatureNames) != nf {
		return fmt.Errorf("%d feature_names for %d features", len(m.FeatureNames), nf)
	}
	for _, t := range types {
		if t == "c" {
			return fmt.Errorf("%w: categorical features", ErrUnsupportedModel)
		}
	}
	m.featIndex = make(map[string]int, nf)
	for i, n := range m.FeatureNames {
		if _, dup := m.featIndex[n]; dup {
			return fmt.Errorf("feature name %q appears twice", n)
		}
		m.featIndex[n] = i
	}

	return nil
}

// setBooster reads the trees of a gbtree or dart booster.
func (m *Model) setBooster(booster *jsonBooster) error {
	if booster == nil {
		return errors.New("no learner.gradient_booster")
	}
	gb := *booster
	m.Booster = gb.Name
	var weights []float32
	switch gb.Name {
	case "gbtree":
	case "dart":
		if gb.GBTree == nil {
			return errors.New("dart booster without gbtree")
		}
		weights = gb.WeightDrop
		gb = *gb.GBTree
	case "gblinear":
		return fmt.Errorf("%w: booster gblinear", ErrUnsupportedModel)
	default:
		return fmt.Errorf("%w: booster %q", ErrUnsupportedModel, gb.Name)
	}
	if gb.Model == nil {
		return errors.New("gradient_booster has no model")
	}
	return m.addTrees(gb.Model, weights)
}

func (m *Model) addTrees(g *jsonGBTree, weights []float32) error {
	f := &g.Forest
	n := len(f.roots)
	if len(g.TreeInfo) != n {
		return fmt.Errorf("%d entries in tree_info for %d trees", len(g.TreeInfo), n)
	}
	if weights != nil && len(weights) != n {
		return fmt.Errorf("%d dart weight_drop entries for %d trees", len(weights), n)
	}
	if s := g.Params.SizeLeafVector; s != "" && s != "0" {
		return fmt.Errorf("%w: vector leaves (multi_strategy)", ErrUnsupportedModel)
	}
	for i, grp := range g.TreeInfo {
		if grp < 0 || int(grp) >= m.groups {
			return fmt.Errorf("tree %d: output group %d, model has %d", i, grp, m.groups)
		}
	}
	for i, r := range f.roots {
		end := int32(len(f.nodes))
		if i+1 < n {
			end = f.roots[i+1]
		}
		for j := r; j < end; j++ {
			nd := &f.nodes[j]
			switch {
			case nd.left < 0 && weights != nil:
				nd.value *= weights[i] // dart: scale the leaves once, here
			case nd.left >= 0 && int(nd.feat&^defaultLeft) >= m.NumFeatures:
				return fmt.Errorf("tree %d splits on feature %d, model has %d", i, nd.feat&^defaultLeft, m.NumFeatures)
			}
		}
	}
	m.nodes, m.roots, m.treeGroup = f.nodes, f.roots, g.TreeInfo
	m.NumTrees, m.NumNodes, m.MaxDepth = n, len(f.nodes), f.maxDepth
	return nil
}

// forest accumulates trees as they are decoded, one at a time, in the evaluator's
// layout: breadth-first, sibling pairs adjacent, each tree's nodes contiguous.
type forest struct {
	nodes    []node
	roots    []int32
	maxDepth int
	queue    []forestItem // scratch
	seen     []bool       // scratch
}

type forestItem struct{ src, dst, depth int }

// add appends one decoded tree. Feature indexes are checked against the model later,
// once the learner's parameters are known.
func (f *forest) add(t *jsonTree) error {
	n := len(t.LeftChildren)
	if n == 0 {
		return errors.New("no nodes")
	}
	if len(t.RightChildren) != n || len(t.SplitIndices) != n || len(t.SplitConditions) != n ||
		len(t.DefaultLeft) != n {
		return errors.New("node arrays of different lengths")
	}
	if len(t.SplitType) != 0 && len(t.SplitType) != n {
		return errors.New("split_type of wrong length")
	}
	if s := t.TreeParam.SizeLeafVector; s != "" && s != "0" && s != "1" {
		return fmt.Errorf("%w: vector leaves", ErrUnsupportedModel)
	}
	if len(f.nodes)+n > math.MaxInt32 {
		return errors.New("too many nodes")
	}
	root := int32(len(f.nodes))
	f.nodes = append(f.nodes, node{})
	queue := append(f.queue[:0], forestItem{0, int(root), 0})
	seen := f.seen[:0]
	for range n {
		seen = append(seen, false)
	}
	seen[0] = true
	defer func() { f.queue, f.seen = queue[:0], seen[:0] }()
	for q := 0; q < len(queue); q++ {
		it := queue[q]
		f.maxDepth = max(f.maxDepth, it.depth)
		l, r := t.LeftChildren[it.src], t.RightChildren[it.src]
		if l == -1 {
			if r != -1 {
				return fmt.Errorf("node %d has only a right child", it.src)
			}
			f.nodes[it.dst] = node{value: t.SplitConditions[it.src], left: -1}
			continue
		}
		if l < 0 || int(l) >= n || r < 0 || int(r) >= n || seen[l] || seen[r] || l == r {
			return fmt.Errorf("node %d has invalid children %d and %d", it.src, l, r)
		}
		seen[l], seen[r] = true, true
		if len(t.SplitType) != 0 && t.SplitType[it.src] != 0 {
			return fmt.Errorf("%w: categorical split at node %d", ErrUnsupportedModel, it.src)
		}
		feat := t.SplitIndices[it.src]
		if feat < 0 || feat >= 1<<20 {
			return fmt.Errorf("node %d splits on feature %d", it.src, feat)
		}
		bits := uint32(feat)
		if t.DefaultLeft[it.src] != 0 {
			bits |= defaultLeft
		}
		left := len(f.nodes)
		f.nodes = append(f.nodes, node{}, node{})
		f.nodes[it.dst] = node{value: t.SplitConditions[it.src], feat: bits, left: int32(left)}
		queue = append(queue, forestItem{int(l), left, it.depth + 1}, forestItem{int(r), left + 1, it.depth + 1})
	}
	f.roots = append(f.roots, root)
	return nil
}

func atoiParam(name, s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s is %q, want an integer", name, s)
	}
	return v, nil
}

// parseBaseScore reads base_score: "5E-1", or a vector "[5E-1,...]" (XGBoost 2.1+).
func parseBaseScore(s string, groups int) ([]float32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = "0.5"
	}
	var parts []string
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		parts = strings.Split(s[1:len(s)-1], ",")
	} else {
		parts = []string{s}
	}
	out := make([]float32, groups)
	if len(parts) != 1 && len(parts) != groups {
		return nil, fmt.Errorf("base_score %q has %d values for %d outputs", s, len(parts), groups)
	}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("base_score %q is not a number", s)
		}
		if len(parts) == 1 {
			for j := range out {
				out[j] = float32(v)
			}
			break
		}
		out[i] = float32(v)
	}
	return out, nil
}

// probToMargin turns base_score (stored in output space) into the initial margin, as
// XGBoost's ObjFunction::ProbToMargin does.
func probToMargin(tr transform, b float32) float32 {
	switch {
	case tr == sigmoidValue || tr == sigmoidClass:
		return float32(-math.Log(1/float64(b) - 1))
	case tr == expValue:
		return float32(math.Log(float64(b)))
	default:
		return b
	}
}

// ModelInfo is the JSON description of a model served at GET /.
type ModelInfo struct {
	Name           string            `json:"name"`
	Format         string            `json:"format"`
	XGBoostVersion string            `json:"xgboost_version,omitempty"`
	Objective      string            `json:"objective"`
	Kind           string            `json:"kind"`
	Booster        string            `json:"booster"`
	NumFeatures    int               `json:"num_features"`
	NumClasses     int               `json:"num_classes,omitempty"`
	NumTrees       int               `json:"num_trees"`
	NumNodes       int               `json:"num_nodes"`
	MaxDepth       int               `json:"max_depth"`
	SizeBytes      int64             `json:"size_bytes"`
	FeatureNames   []string          `json:"feature_names"`
	Attributes     map[string]string `json:"attributes,omitempty"`
}

// Info describes the model.
func (m *Model) Info() ModelInfo {
	return ModelInfo{
		Name: m.Name, Format: "xgboost-json", XGBoostVersion: m.XGBoostVersion,
		Objective: m.Objective, Kind: m.Kind.String(), Booster: m.Booster,
		NumFeatures: m.NumFeatures, NumClasses: m.NumClasses, NumTrees: m.NumTrees,
		NumNodes: m.NumNodes, MaxDepth: m.MaxDepth, SizeBytes: m.SizeBytes,
		FeatureNames: m.FeatureNames, Attributes: m.Attributes,
	}
}
