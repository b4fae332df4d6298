"""Copy the accepted answer's score to its question, kept by triggers.

The help panel lists a context's answered questions best answer first.
With the score on the question, an index orders them, so the panel reads
five rows instead of every answered question of the context. Triggers keep
the copy whatever writes the rows: services, ``QuerySet.update()``, the
benchmark loaders or a test fixture.
"""

from django.db import migrations, models

SQLITE_CREATE = [
    """
    CREATE TRIGGER answers_question_accepted_score_insert
    AFTER INSERT ON answers_question
    WHEN NEW.accepted_score IS NOT
        (SELECT score FROM answers_answer WHERE id = NEW.accepted_answer_id)
    BEGIN
        UPDATE answers_question SET accepted_score =
            (SELECT score FROM answers_answer WHERE id = NEW.accepted_answer_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER answers_question_accepted_score_update
    AFTER UPDATE OF accepted_answer_id, accepted_score ON answers_question
    WHEN NEW.accepted_score IS NOT
        (SELECT score FROM answers_answer WHERE id = NEW.accepted_answer_id)
    BEGIN
        UPDATE answers_question SET accepted_score =
            (SELECT score FROM answers_answer WHERE id = NEW.accepted_answer_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER answers_answer_score_to_question
    AFTER UPDATE OF score ON answers_answer
    WHEN NEW.score IS NOT OLD.score
    BEGIN
        UPDATE answers_question SET accepted_score = NEW.score
        WHERE accepted_answer_id = NEW.id;
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS answers_answer_score_to_question",
    "DROP TRIGGER IF EXISTS answers_question_accepted_score_update",
    "DROP TRIGGER IF EXISTS answers_question_accepted_score_insert",
]
POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION answers_question_accepted_score() RETURNS trigger AS $$
    BEGIN
        NEW.accepted_score := (
            SELECT score FROM answers_answer WHERE id = NEW.accepted_answer_id
        );
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER answers_question_accepted_score
    BEFORE INSERT OR UPDATE OF accepted_answer_id, accepted_score
    ON answers_question
    FOR EACH ROW EXECUTE FUNCTION answers_question_accepted_score()
    """,
    """
    CREATE FUNCTION answers_answer_score_to_question() RETURNS trigger AS $$
    BEGIN
        UPDATE answers_question SET accepted_score = NEW.score
        WHERE accepted_answer_id = NEW.id;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER answers_answer_score_to_question
    AFTER UPDATE OF score ON answers_answer
    FOR EACH ROW WHEN (NEW.score IS DISTINCT FROM OLD.score)
    EXECUTE FUNCTION answers_answer_score_to_question()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS answers_answer_score_to_question ON answers_answer",
    "DROP FUNCTION IF EXISTS answers_answer_score_to_question()",
    "DROP TRIGGER IF EXISTS answers_question_accepted_score ON answers_question",
    "DROP FUNCTION IF EXISTS answers_question_accepted_score()",
]
# Fill the copy for the questions answered before this migration.
BACKFILL = """
    UPDATE answers_question SET accepted_score =
        (SELECT score FROM answers_answer WHERE id = answers_question.accepted_answer_id)
    WHERE accepted_answer_id IS NOT NULL
"""


def _run(schema_editor, statements_by_vendor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise RuntimeError(
            f"Commonplace supports SQLite and PostgreSQL, not {vendor}: run it "
            "on one of them."
        )
    for statement in statements_by_vendor[vendor]:
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    _run(
        schema_editor,
        {
            "sqlite": [*SQLITE_CREATE, BACKFILL],
            "postgresql": [*POSTGRESQL_CREATE, BACKFILL],
        },
    )


def drop_triggers(apps, schema_editor):
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [("answers", "0006_faq_entry_most_helpful_index")]

    operations = [
        migrations.AddField(
            model_name="question",
            name="accepted_score",
            field=models.IntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
        migrations.AddIndex(
            model_name="question",
            index=models.Index(
                condition=models.Q(accepted_answer__isnull=False),
                fields=["context", "-accepted_score", "-created_at", "id"],
                name="question_context_best_answer",
            ),
        ),
    ]
