"""Django admin shows everything the bot keeps."""
import pytest

from app.agenda.services import load_sample_if_empty

MODELS = ["bot/inboundevent", "bot/message", "bot/commanduse", "bot/reply", "bot/channelpace",
          "agenda/agendaitem", "agenda/catalogueitem", "agenda/feedstatus"]


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS)
def test_every_model_has_an_admin_list(admin_client, static_files, model):
    load_sample_if_empty()
    response = admin_client.get(f"/admin/{model}/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_catalogue_is_searchable_in_admin(admin_client, static_files):
    load_sample_if_empty()
    response = admin_client.get("/admin/agenda/catalogueitem/?q=celery")
    assert "Introducción a Celery" in response.content.decode()
