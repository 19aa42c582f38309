package tokenizer

// The split regexes of each pre-tokenizer named by GGUF's tokenizer.ggml.pre,
// as llama.cpp lists them (src/llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_*).
// Where llama.cpp rewrote a Hugging Face regex for its own engine (the
// case-insensitive contraction group, possessive quantifiers), the table
// holds the original's meaning instead, because the reference outputs come
// from Hugging Face tokenizers (Oniguruma):
//   - (?i:'s|'t|...) is spelled out with explicit cases, and 's also takes
//     "ſ" (U+017F), which Unicode case folding equates with "s" but
//     regexp2's IgnoreCase does not;
//   - a possessive X?+ / X++ becomes the atomic group (?>X?) / (?>X+).
// The strings are Go literals of the same text as llama.cpp's C++ literals.

// preGPT2 is GPT-2's regex (the Hugging Face ByteLevel pre-tokenizer's,
// which ends with an extra "|\s+" that llama.cpp leaves out; the two split
// alike because a gap between matches is kept as a piece anyway).
const preGPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

// preContractions is the case-insensitive English contraction group.
const preContractions = "(?:'[sSſ]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

// preLlama3 is Llama 3's regex (digits in groups of up to three).
const preLlama3 = preContractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

// preQwen2 is Qwen2's regex (Llama 3's with single digits).
const preQwen2 = preContractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

// preCased is the letter-case-aware word pattern of Tekken and GPT-4o.
const preCased = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"

// preCasedUpper is its all-capitals alternative.
const preCasedUpper = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"

// preBloom is BLOOM's word pattern (parentheses and bar included literally
// in the class, as in the original).
const preBloom = " ?[^(\\s|.,!?…。，、।۔،)]+"

// preFamilies maps each pre-tokenizer family to its regex list.
var preFamilies = map[string][]string{
	"default": {
		"[\\p{P}\\$\\+<=>\\^~\\|]+",
		"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
		"\\p{N}+",
		"[0-9][0-9][0-9]",
	},
	"gpt2":      {preGPT2},
	"starcoder": {"\\p{N}", preGPT2},
	"llama3":    {preLlama3},
	"qwen2":     {preQwen2},
	"qwen35":    {preContractions + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
	"jais2":     {preContractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}"},
	// The cased-letter class is written with escapes where a code point has
	// a canonical singleton decomposition (U+1F7D, U+1FBE, U+1FD3, U+1FDB,
	// U+2126, U+212A): Unicode normalization by an editor would silently
	// turn them into other letters and break the ranges.
	"deepseek-llm": {
		"[\r\n]",
		"\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
		"\\s?[!-/:-~！-／：-～‘-‟　-。]+",
		"\\s+$",
		"[一-龥ࠀ-一가-퟿]+",
		"\\p{N}+",
	},
	"deepseek-v3": {
		"\\p{N}{1,3}",
		"[一-龥぀-ゟ゠-ヿ]+",
		"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
	},
	"spark2_5": {
		"\\p{N}{1,3}",
		"[一-龥぀-ゟ゠-ヿ]+",
		"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
		"\\p{N}",
	},
	"youtu": {
		"[가-힣ㄱ-ㆎ]+|[！…“”‘’—：；，、-〿︰-﹏]+|[ㄅ-ㄯ]+|[一-龥぀-ゟ゠-ヿ]+",
		preCased + preContractions + "?|" + preCasedUpper + preContractions + "?|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	},
	"deepseek-coder": {
		"[\r\n]",
		"\\s?\\p{L}+",
		"\\s?\\p{P}+",
		"[一-龥ࠀ-一가-퟿]+",
		"\\p{N}",
	},
	"falcon": {
		"[\\p{P}\\$\\+<=>\\^~\\|`]+",
		"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
		"[0-9][0-9][0-9]",
	},
	"bloom":  {preBloom},
	"viking": {preBloom, "\\p{N}"},
	"tekken": {preCased + "|" + preCasedUpper + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
	"chameleon": {
		"<sentinel:[0-9]+>",
		"(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
		"([\\t\\n]|    |  )",
		"\\p{N}",
		"[\\p{P}!-/:-@\\[-`{-~]",
		"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
	},
	"gpt-4o":                  {preCased + preContractions + "?|" + preCasedUpper + preContractions + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
	"granite-embed-multi-97m": {"[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*((?=[\\p{L}\\p{M}])([^A-Z]))+" + preContractions + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+((?=[\\p{L}\\p{M}])([^A-Z]))*" + preContractions + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
	"tiny_aya": {
		"\\d{1,3}(?=(?:\\d{3})*\\b)",
		preCased + preContractions + "?|" + preCasedUpper + preContractions + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	},
	"superbpe": {
		"\\p{N}+",
		"(?=(\\d{3})+(?!\\d))",
	},
	"bailingmoe": {"'(?:[sSſdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|(?>[^\\r\\n\\p{L}\\p{N}]?)\\p{L}+|\\p{N}| ?(?>[^\\s\\p{L}\\p{N}]+)[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"},
	"seed-coder": {preContractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
	"ufakzeka":   {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
	"laguna":     {"[^\\n]+|[\\n]+", preQwen2},
	"exaone-moe": {preContractions + "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"},
	"minicpm5": {
		"\\p{N}{1,3}",
		preContractions + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
	},
}

// preNames maps each tokenizer.ggml.pre name to its family. "" (a GGUF
// without the key) is llama.cpp's "default", as llama.cpp does.
var preNames = map[string]string{
	"": "default", "default": "default",

	"gpt2": "gpt2", "gpt-2": "gpt2", "phi-2": "gpt2", "jina-es": "gpt2", "jina-de": "gpt2",
	"gigachat": "gpt2", "jina-v2-es": "gpt2", "jina-v2-de": "gpt2", "a.x-4.0": "gpt2",
	"mellum": "gpt2", "modern-bert": "gpt2", "jina-v1-en": "gpt2", "jina-v2-code": "gpt2",
	"roberta-bpe": "gpt2", "exaone4": "gpt2", "mpt": "gpt2", "olmo": "gpt2", "jais": "gpt2",
	"trillion": "gpt2", "granite-docling": "gpt2", "gpt-neox": "gpt2",

	"starcoder": "starcoder", "refact": "starcoder", "command-r": "starcoder",
	"smollm": "starcoder", "codeshell": "starcoder", "exaone": "starcoder",
	"minerva-7b": "starcoder", "mellum2": "starcoder",

	"llama3": "llama3", "llama-v3": "llama3", "llama-bpe": "llama3", "falcon3": "llama3",
	"falcon-h1": "llama3", "pixtral": "llama3", "midm-2.0": "llama3", "lfm2": "llama3",
	"jina-v5-nano": "llama3", "dbrx": "llama3", "smaug-bpe": "llama3",
	"chatglm-bpe": "llama3", "glm4": "llama3",

	"qwen2": "qwen2", "deepseek-r1-qwen": "qwen2", "kormo": "qwen2", "f2llmv2": "qwen2",
	"megrez": "qwen2", "stablelm2": "qwen2", "hunyuan": "qwen2", "solar-open": "qwen2",
	"grok-2": "qwen2",

	"qwen35": "qwen35", "jais-2": "jais2",
	"deepseek-llm": "deepseek-llm", "deepseek-coder": "deepseek-coder",
	"deepseek-v3": "deepseek-v3", "hunyuan-dense": "deepseek-v3", "joyai-llm": "deepseek-v3",
	"hy_v4":    "deepseek-v3",
	"spark2_5": "spark2_5", "youtu": "youtu", "falcon": "falcon",
	"bloom": "bloom", "gpt3-finnish": "bloom", "poro-chat": "bloom", "viking": "viking",
	"tekken": "tekken", "chameleon": "chameleon",
	"gpt-4o": "gpt-4o", "llama4": "gpt-4o", "kanana2": "gpt-4o", "talkie": "gpt-4o",
	"minimax-m2":              "gpt-4o",
	"granite-embed-multi-97m": "granite-embed-multi-97m",
	"tiny_aya":                "tiny_aya", "cohere2moe": "tiny_aya",
	"superbpe":   "superbpe",
	"bailingmoe": "bailingmoe", "bailingmoe2": "bailingmoe", "llada-moe": "bailingmoe",
	"seed-coder": "seed-coder", "ufakzeka": "ufakzeka", "laguna": "laguna",
	"exaone-moe": "exaone-moe", "minicpm5": "minicpm5",
}

// preIgnoresMerges lists the pre-tokenizer names whose Hugging Face BPE
// model sets ignore_merges: a word that is itself a vocabulary entry is
// taken whole before any merging (llama.cpp sets the same flag for them).
var preIgnoresMerges = map[string]bool{
	"llama3": true, "llama-v3": true, "llama-bpe": true, "falcon3": true, "falcon-h1": true,
	"pixtral": true, "midm-2.0": true, "lfm2": true, "jina-v5-nano": true,
	"tekken": true, "youtu": true, "minicpm5": true, "granite-embed-multi-97m": true,
}
