import pytest

from app.agenda.models import SEARCH_TEXT_MAX_LENGTH, CatalogueItem
from app.agenda.selectors import normalize, search_catalogue


@pytest.mark.parametrize("text, expected", [
    ("¡Café, CÓDIGO!", "cafe codigo"),
    ("Diseño de APIs", "diseno de apis"),
    ("Ñandú  \n  pingüino", "nandu pinguino"),
    ("Straße", "strasse"),
    ("ＡＢＣ ｆｕｌｌ", "abc full"),   # NFKD folds full-width letters
    ("node.js/c++", "node js c"),
    ("", ""),
    (None, ""),
])
def test_normalize_lowercases_strips_accents_and_punctuation(text, expected):
    assert normalize(text) == expected


@pytest.fixture
def catalogue(db):
    rows = [
        ("cafe-y-codigo", "Café y código", "Programación en pareja", "comunidad,pair programming"),
        ("cafeterias", "Guía de cafeterías con wifi", "Sitios para programar", "lugares"),
        ("apis", "Diseño de APIs", "Errores, versionado y paginación", "rest,http"),
        ("celery", "Introducción a Celery", "Colas y reintentos", "python,colas"),
        ("pytest", "Testing", "Fixtures y parametrize", "pytest,python"),
    ]
    for slug, title, summary, tags in rows:
        CatalogueItem.objects.create(slug=slug, title=title, summary=summary, tags=tags)


def slugs(items):
    return [item.slug for item in items]


@pytest.mark.django_db
class TestSearchCatalogue:
    def test_plain_query_finds_accented_title(self, catalogue):
        assert slugs(search_catalogue("cafe")) == ["cafe-y-codigo", "cafeterias"]

    def test_accented_uppercase_query_finds_words_that_start_with_it(self, catalogue):
        assert "cafeterias" in slugs(search_catalogue("CAFÉ"))

    def test_every_word_must_match(self, catalogue):
        assert slugs(search_catalogue("diseno APIS")) == ["apis"]
        assert slugs(search_catalogue("introducción   CELERY")) == ["celery"]
        assert search_catalogue("celery café") == []

    def test_matches_summary_and_tags(self, catalogue):
        assert slugs(search_catalogue("paginacion")) == ["apis"]
        assert slugs(search_catalogue("python")) == ["celery", "pytest"]

    def test_nothing_found(self, catalogue):
        assert search_catalogue("kubernetes") == []

    @pytest.mark.parametrize("query", ["", "   ", "¡¿?!", None])
    def test_empty_query_returns_nothing(self, catalogue, query):
        assert search_catalogue(query) == []

    def test_limit(self, catalogue):
        assert len(search_catalogue("a", limit=2)) == 2
        assert search_catalogue("cafe", limit=0) == []

    def test_sql_wildcards_are_just_punctuation(self, catalogue):
        # "%" and "_" never reach LIKE as wildcards: the normaliser turns them into word breaks.
        assert search_catalogue("%") == [] and search_catalogue("_") == []
        assert slugs(search_catalogue("caf_")) == slugs(search_catalogue("caf"))

    def test_search_text_follows_edits(self, catalogue):
        item = CatalogueItem.objects.get(slug="pytest")
        item.title = "Pruebas automáticas"
        item.save(update_fields=["title"])
        item.refresh_from_db()
        assert item.search_text.startswith("pruebas automaticas")
        assert slugs(search_catalogue("AUTOMÁTICAS")) == ["pytest"]

    def test_long_summary_is_cut_but_title_stays_searchable(self, db):
        CatalogueItem.objects.create(slug="long", title="Título largo", summary="palabra " * 500, tags="x")
        item = CatalogueItem.objects.get(slug="long")
        assert len(item.search_text) <= SEARCH_TEXT_MAX_LENGTH
        assert slugs(search_catalogue("titulo largo")) == ["long"]
