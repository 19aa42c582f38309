package hf

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/omex-dev/omex/omexerr"
	"github.com/omex-dev/omex/runtime/tokenizer"
)

// loadTokenizer reads tokenizer.json (LoadHFJSON also applies the
// tokenizer_config.json beside it: add_bos_token, add_eos_token and the
// bos/eos token texts), then sets the BOS and EOS ids the model generates
// with: generation_config.json's, as transformers uses them, else those of
// config.json.
func loadTokenizer(dir string, cfg *hfConfig) (tokenizer.Spec, error) {
	spec, err := tokenizer.LoadHFJSON(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return tokenizer.Spec{}, err
	}
	bos, eos, from := cfg.BOS, cfg.EOS, filepath.Join(dir, "config.json")
	gcPath := filepath.Join(dir, "generation_config.json")
	if fileExists(gcPath) {
		data, err := readSmallFile(gcPath)
		if err != nil {
			return tokenizer.Spec{}, err
		}
		gbos, geos, err := generationIDs(data)
		if err != nil {
			return tokenizer.Spec{}, omexerr.Modelf("model.bad_config", "%v", err).WithFile(gcPath)
		}
		// transformers builds the generation config from the model config
		// only when the file is absent; a field it lacks is unset.
		bos, eos, from = gbos, geos, gcPath
	}
	if err := setID(&spec, "bos_token_id", bos, &spec.BOS); err != nil {
		return tokenizer.Spec{}, omexerr.Modelf("model.bad_config", "%v", err).WithFile(from)
	}
	if err := setID(&spec, "eos_token_id", eos, &spec.EOS); err != nil {
		return tokenizer.Spec{}, omexerr.Modelf("model.bad_config", "%v", err).WithFile(from)
	}
	return spec, nil
}

// generationIDs reads bos_token_id and eos_token_id of a
// generation_config.json.
func generationIDs(data []byte) (bos, eos []int, err error) {
	f, err := parseFields(data)
	if err != nil {
		return nil, nil, err
	}
	if bos, err = f.ids("bos_token_id"); err != nil {
		return nil, nil, err
	}
	if eos, err = f.ids("eos_token_id"); err != nil {
		return nil, nil, err
	}
	return bos, eos, nil
}

// setID sets *dst from a list of ids. Chat models list several EOS ids
// (generation stops on any); Spec holds one, so the tokenizer's own choice
// is kept when it is among them, else the first listed is taken.
func setID(spec *tokenizer.Spec, key string, ids []int, dst *int) error {
	for _, id := range ids {
		if id < 0 || id >= len(spec.Tokens) {
			return fmt.Errorf("%s %d is outside the %d-token vocabulary", key, id, len(spec.Tokens))
		}
	}
	if len(ids) > 0 && !slices.Contains(ids, *dst) {
		*dst = ids[0]
	}
	return nil
}
