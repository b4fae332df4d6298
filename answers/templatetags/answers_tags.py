from django import template

from accounts.templatetags.author_labels import author_label

register = template.Library()

# The tag lives with the rule in ``accounts``; Q&A templates load it from here.
register.simple_tag(author_label, takes_context=True, name="author_label")
