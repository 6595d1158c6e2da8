/* conf_yaml: placeholder until implemented */
