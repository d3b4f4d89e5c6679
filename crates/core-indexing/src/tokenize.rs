//! The `en_stem` analyzer with a per-thread stem cache: the same terms as tantivy's own, faster.
//!
//! English stemming was about a third of the indexing CPU; words repeat (Zipf), so caching the
//! stem of each word makes it nearly free. The chain and the stemmer are tantivy's, so indexes
//! written with either analyzer are interchangeable.

use std::cell::RefCell;
use std::collections::HashMap;

use tantivy::Index;
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

const CACHE_LIMIT: usize = 200_000;

struct StemCache {
    stemmer: frostem::Stemmer,
    stems: HashMap<String, String>,
}

thread_local! {
    static STEMS: RefCell<StemCache> = RefCell::new(StemCache {
        stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        stems: HashMap::new(),
    });
}

fn stem_into(word: &mut String) {
    STEMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(stem) = cache.stems.get(word.as_str()) {
            if stem != word {
                word.clear();
                word.push_str(stem);
            }
            return;
        }
        let stem = cache.stemmer.stem(word).into_owned();
        if cache.stems.len() >= CACHE_LIMIT {
            cache.stems.clear();
        }
        cache.stems.insert(word.clone(), stem.clone());
        *word = stem;
    });
}

/// English stemming through the per-thread cache.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CachedEnglishStemmer;

impl TokenFilter for CachedEnglishStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemFilter<T> {
        CachedStemFilter { inner: tokenizer }
    }
}

#[derive(Clone)]
pub(crate) struct CachedStemFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for CachedStemFilter<T> {
    type TokenStream<'a> = CachedStemStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemStream { tail: self.inner.token_stream(text) }
    }
}

pub(crate) struct CachedStemStream<T> {
    tail: T,
}

impl<T: TokenStream> TokenStream for CachedStemStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        stem_into(&mut self.tail.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Registers pipette's analyzers on an index (call on every `Index` opened or created).
pub(crate) fn register(index: &Index) {
    index.tokenizers().register(
        "en_stem",
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(CachedEnglishStemmer)
            .build(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn same_terms_as_tantivy_en_stem() {
        let index = Index::create_in_ram(tantivy::schema::Schema::builder().build());
        let mut stock = index.tokenizers().get("en_stem").unwrap();
        register(&index);
        let mut cached = index.tokenizers().get("en_stem").unwrap();
        let text = "Mutations of BRAF: vemurafenib improved overall survival; the patients' responses were \
                    durable, running runs ran. Generalizations generalization EGFR-L858R mutated";
        // twice: the second pass is served from the cache
        for _ in 0..2 {
            assert_eq!(terms(&mut cached, text), terms(&mut stock, text));
        }
        assert!(terms(&mut cached, "mutations").contains(&"mutat".to_string()));
    }
}
