//! Entry points for the fuzz targets (`fuzz/fuzz_targets/mock_*.rs`) and their corpus replay
//! test (`tests/fuzz_corpus.rs`). Not part of the supported API.
