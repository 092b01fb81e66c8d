"""What people and programs reach over HTTP: the oversight API (`api`) and the
dashboard (`dashboard`), mounted together by `app.create_app`. Both read through
`metareg.oversight` and never import each other."""
