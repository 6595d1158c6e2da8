/* server: placeholder until implemented */
